/* The case layer of the console map (/map): the cases of the view from /ui/cases.json, within
 * the user's visibility and the filters of the panel (status, category, source, time). Zoomed
 * out, the server counts the cases per cell (clustered circles with the count, coloured by the
 * worst light in the cell: red if any is overdue, else yellow if any is due soon, else green;
 * a click zooms in); from the configured zoom, single cases coloured by light with a popup
 * linking to the case page (capped, newest first). A heat layer (Leaflet.heat) can be switched
 * on. Runs after map.js, which exposes the map as window.cityopsMap.
 * Why clusters from the server rather than leaflet.markercluster: a city holds tens of thousands
 * of cases (72,992 in the demo); clustering them in the browser means sending them all first.
 * Counting per cell in SQL sends a few hundred numbers for any view, keeps the visibility rule in
 * the store's query, and gives every cell its lights without loading a case. */
(function () {
  'use strict';
  function start() {
    var map = window.cityopsMap;
    var cfgEl = document.getElementById('case-config');
    if (!map || !cfgEl || !window.L) return;
    var cfg = JSON.parse(cfgEl.textContent);
    var T = cfg.t || {};
    var $ = function (id) { return document.getElementById(id); };
    var toggle = $('cases-toggle'), heatToggle = $('cases-heat');
    var selects = ['case-status', 'case-category', 'case-source', 'case-days'].map($).filter(Boolean);
    var statusLine = $('cases-status-line');
    var group = L.layerGroup().addTo(map);
    var heat = null, ctrl = null, timer = null;
    var renderer = L.canvas({ padding: 0.3, pane: 'markerPane' });
    var COLOURS = { green: '#16a34a', yellow: '#d97706', red: '#dc2626' };
    // Leaflet.heat needs Leaflet, which the page loads last: fetch it now.
    if (!L.heatLayer && cfg.heat_src) {
      var sc = document.createElement('script');
      sc.src = cfg.heat_src;
      sc.onload = function () { if (heatToggle && heatToggle.checked) soon(); };
      document.head.appendChild(sc);
    }

    function node(tag, cls, s) {
      var e = document.createElement(tag);
      if (cls) e.className = cls;
      if (s !== undefined && s !== null) e.textContent = s;
      return e;
    }
    function fmt(n) { return Number(n).toLocaleString('en-US'); }
    function params() {
      var b = map.getBounds().pad(0.1);
      var clamp = function (v, lo, hi) { return Math.max(lo, Math.min(hi, v)); };
      var q = ['bbox=' + [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
        .map(function (v) { return v.toFixed(5); }).join(','), 'zoom=' + Math.floor(map.getZoom())];
      var names = { 'case-status': 'status', 'case-category': 'category', 'case-source': 'source', 'case-days': 'days' };
      selects.forEach(function (s) { if (s.value) q.push(names[s.id] + '=' + encodeURIComponent(s.value)); });
      return q.join('&');
    }
    function worst(c) { return c.red > 0 ? 'red' : (c.yellow > 0 ? 'yellow' : 'green'); }
    function popup(p) {
      var box = node('div', 'case-popup');
      box.appendChild(node('div', 'popup-title', p.code));
      var dl = node('dl', 'locate-list');
      function row(k, v) { dl.appendChild(node('dt', null, k)); dl.appendChild(node('dd', null, v)); }
      row(T.status, ((cfg.statuses || {})[p.status] || p.status) + ' · ' + ((cfg.lights || {})[p.light] || p.light));
      if (p.category_code) row(T.category, p.category_code);
      box.appendChild(dl);
      var a = node('a', 'btn', T.open_case);
      a.href = '/cases/' + p.id;
      box.appendChild(a);
      return box;
    }
    function draw(res) {
      group.clearLayers();
      var pts = [];
      if (res.mode === 'cells') {
        res.cells.forEach(function (c) {
          var size = Math.round(Math.min(52, 22 + Math.log(c.count + 1) * 5));
          var m = L.marker([c.lat, c.lng], {
            icon: L.divIcon({ className: '', html: '<div class="case-cell light-' + worst(c) + '" style="width:' + size + 'px;height:' + size + 'px">' + fmt(c.count) + '</div>', iconSize: [size, size], iconAnchor: [size / 2, size / 2] }),
            keyboard: false, title: fmt(c.count)
          });
          m.on('click', function () { map.setView([c.lat, c.lng], Math.min(19, Math.floor(map.getZoom()) + 2)); });
          group.addLayer(m);
          pts.push([c.lat, c.lng, c.count]);
        });
      } else {
        res.points.forEach(function (p) {
          var m = L.circleMarker([p.lat, p.lng], { renderer: renderer, radius: 6, weight: 1.5, color: '#ffffff', fillColor: COLOURS[p.light] || COLOURS.green, fillOpacity: 0.95, bubblingMouseEvents: false });
          m.bindPopup(function () { return popup(p); });
          group.addLayer(m);
          pts.push([p.lat, p.lng, 1]);
        });
      }
      if (heat) { map.removeLayer(heat); heat = null; }
      if (heatToggle && heatToggle.checked && L.heatLayer && pts.length) {
        var max = pts.reduce(function (m, p) { return Math.max(m, p[2]); }, 1);
        heat = L.heatLayer(pts, { radius: 25, blur: 18, max: max, minOpacity: 0.3 }).addTo(map);
      }
      if (statusLine) {
        var parts = [(T.cases_in_view || '').replace('{n}', fmt(res.total))];
        if (res.mode === 'cells') parts.push((T.cases_zoom_for_points || '').replace('{z}', res.points_zoom));
        else if (res.total > res.points.length) parts.push((T.cases_capped || '').replace('{n}', fmt(res.points.length)).replace('{total}', fmt(res.total)));
        statusLine.textContent = parts.join(' · ');
      }
    }
    function load() {
      if (!toggle || !toggle.checked) {
        group.clearLayers();
        if (heat) { map.removeLayer(heat); heat = null; }
        if (statusLine) statusLine.textContent = '';
        return;
      }
      if (ctrl) ctrl.abort();
      ctrl = window.AbortController ? new AbortController() : null;
      fetch('/ui/cases.json?' + params(), { credentials: 'same-origin', headers: { Accept: 'application/json' }, signal: ctrl && ctrl.signal })
        .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || r.status); return j; }); })
        .then(draw)
        .catch(function (e) { if (e.name !== 'AbortError') { console.warn(e); if (statusLine) statusLine.textContent = e.message; } });
    }
    function soon() { clearTimeout(timer); timer = setTimeout(load, 200); }
    map.on('moveend zoomend', soon);
    [toggle, heatToggle].concat(selects).forEach(function (e) { if (e) e.addEventListener('change', soon); });
    load();
  }
  // After map.js, which the page runs after this script (both deferred): DOMContentLoaded
  // fires once every deferred script ran.
  if (document.readyState === 'complete') start(); else document.addEventListener('DOMContentLoaded', start);
})();
