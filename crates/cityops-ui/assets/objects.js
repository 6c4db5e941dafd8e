/* CityOps console: 一码管全域 — the small maps of the object list (the page's objects) and of an
   object's page (its point and its responsibility zone), row click, the print button of the label
   sheets. Leaflet without a basemap unless the city configured one; settings and texts come from
   <script id="obj-map-config" type="application/json">. */
(function () {
  'use strict';
  document.addEventListener('click', function (ev) {
    var row = ev.target.closest && ev.target.closest('tr.obj-row[data-href]');
    if (!row || ev.target.closest('a, button, input, select, textarea')) return;
    location.assign(row.getAttribute('data-href'));
  });
  var print = document.querySelector('[data-print]');
  if (print) print.addEventListener('click', function () { window.print(); });

  // Region boundaries under the objects (thin lines, no fill): the map needs no basemap.
  function boundaries(map, url, style) {
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (!fc) return;
        var layer = L.geoJSON(fc, { style: style, interactive: false });
        layer.addTo(map);
        layer.bringToBack();
      })
      .catch(function () {});
  }

  function draw() {
    var el = document.getElementById('obj-map');
    var cfgEl = document.getElementById('obj-map-config');
    if (!el || !cfgEl || !window.L || el.dataset.ready) return;
    el.dataset.ready = '1';
    var cfg = JSON.parse(cfgEl.textContent);
    var map = L.map(el, { attributionControl: false, preferCanvas: true, maxZoom: 20 });
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    if (cfg.tile_url) L.tileLayer(cfg.tile_url, { maxZoom: 19 }).addTo(map);
    if (cfg.mode === 'zone') {
      var p = [cfg.point[1], cfg.point[0]];
      var d = 0.004, box = [cfg.point[0] - d, cfg.point[1] - d, cfg.point[0] + d, cfg.point[1] + d];
      boundaries(map, '/ui/layers/grid.geojson?bbox=' + box.map(function (v) { return v.toFixed(6); }).join(','),
        { color: '#b9c3d1', weight: 0.8, fill: false });
      var bounds = L.latLngBounds([p]);
      if (cfg.zone && cfg.zone.length > 2) {
        var ring = cfg.zone.map(function (q) { return [q[1], q[0]]; });
        var poly = L.polygon(ring, { color: '#1d4ed8', weight: 2, fillColor: '#1d4ed8', fillOpacity: 0.18 })
          .bindTooltip(cfg.t.zone).addTo(map);
        bounds.extend(poly.getBounds());
      }
      L.circleMarker(p, { radius: 7, color: '#0f1f3d', weight: 2, fillColor: '#f59e0b', fillOpacity: 1 })
        .bindTooltip(cfg.t.point).addTo(map);
      map.fitBounds(bounds.pad(0.8), { maxZoom: 19 });
      return;
    }
    boundaries(map, '/ui/layers/district.geojson', { color: '#1e3a8a', weight: 1.6, fill: false });
    boundaries(map, '/ui/layers/street.geojson', { color: '#94a3b8', weight: 0.8, fill: false });
    var pts = cfg.points || [];
    if (!pts.length) {
      var b = cfg.bounds;
      if (b) map.fitBounds([[b[1], b[0]], [b[3], b[2]]]); else map.setView([23.1, 114.4], 11);
      return;
    }
    var all = L.latLngBounds([]);
    pts.forEach(function (o) {
      var ll = [o.lat, o.lng];
      all.extend(ll);
      L.circleMarker(ll, { radius: 6, color: '#fff', weight: 1, fillColor: '#1d4ed8', fillOpacity: 0.9 })
        .bindTooltip(o.name + ' · ' + o.kind)
        .on('click', function () { location.assign('/objects/' + o.code); })
        .addTo(map);
    });
    map.fitBounds(all.pad(0.15), { maxZoom: 17 });
  }
  window.addEventListener('load', draw);
})();
