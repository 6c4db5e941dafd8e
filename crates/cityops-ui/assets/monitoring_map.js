/* 运行监测 device map (/monitoring): every device in the viewer's scope from
 * /ui/monitoring/devices.json as a circle on the console map (map.js, window.cityopsMap) coloured
 * by status — normal green, alarm by level (三级 red, 二级 orange, 一级 yellow), offline grey, out of
 * service hollow — filtered by lifeline, type and status in the browser (the whole scope is one
 * small answer), with the counts per status and the newest active alarms beside. Alarm changes
 * from /monitoring/events re-read the devices, at most once every REFRESH_MS. Texts and names come
 * from <script id="mon-config">. */
(function () {
  'use strict';
  var REFRESH_MS = 4000;
  var COLOURS = { normal: '#16a34a', offline: '#6b7280', inactive: '#9ca3af', 1: '#eab308', 2: '#f97316', 3: '#dc2626' };
  function start() {
    var map = window.cityopsMap;
    var cfgEl = document.getElementById('mon-config');
    if (!map || !cfgEl || !window.L) return;
    var cfg = JSON.parse(cfgEl.textContent);
    var N = cfg.names || {}, T = cfg.t || {};
    var $ = function (id) { return document.getElementById(id); };
    var lifelineSel = $('mon-lifeline'), typeSel = $('mon-type');
    var statusBoxes = Array.prototype.slice.call(document.querySelectorAll('input[data-status]'));
    var renderer = L.canvas({ padding: 0.3, pane: 'markerPane', tolerance: 3 });
    var group = L.layerGroup().addTo(map);
    var data = null, focused = false;

    function node(tag, cls, s) {
      var e = document.createElement(tag);
      if (cls) e.className = cls;
      if (s !== undefined && s !== null) e.textContent = s;
      return e;
    }
    function fmt(n) { return Number(n).toLocaleString('en-US'); }
    function typeName(t) { return ((N.types || {})[t] || {}).name || t; }
    function lifelineOf(t) { return ((N.types || {})[t] || {}).lifeline || ''; }
    function statusText(d) {
      var s = (N.statuses || {})[d.status] || d.status;
      return d.status === 'alarm' ? s + ' · ' + ((N.levels || {})[d.level] || d.level) : s;
    }
    function colour(d) { return d.status === 'alarm' ? COLOURS[Math.max(1, Math.min(3, d.level))] : COLOURS[d.status]; }

    // The type list follows the lifeline chosen.
    function syncTypes() {
      var l = lifelineSel.value;
      Array.prototype.forEach.call(typeSel.options, function (o) {
        if (!o.value) return;
        var show = !l || o.dataset.lifeline === l;
        o.hidden = !show;
        o.disabled = !show;
        if (!show && o.selected) typeSel.value = '';
      });
    }
    function wanted(d) {
      if (typeSel.value && d.type !== typeSel.value) return false;
      if (lifelineSel.value && lifelineOf(d.type) !== lifelineSel.value) return false;
      return true;
    }
    function popup(d) {
      var box = node('div', 'mon-popup');
      box.appendChild(node('div', 'popup-title', d.id));
      box.appendChild(node('div', null, typeName(d.type)));
      box.appendChild(node('div', null, statusText(d)));
      var a = node('a', null, T.open_device + ' ›');
      a.href = '/monitoring/devices/' + encodeURIComponent(d.id);
      box.appendChild(a);
      return box;
    }
    var ORDER = { inactive: 0, normal: 1, offline: 2, alarm: 3 };
    function draw() {
      if (!data) return;
      var on = {};
      statusBoxes.forEach(function (b) { on[b.dataset.status] = b.checked; });
      var counts = { normal: 0, alarm: 0, offline: 0, inactive: 0 };
      var shown = [];
      data.devices.forEach(function (d) {
        if (!wanted(d)) return;
        counts[d.status] = (counts[d.status] || 0) + 1;
        if (on[d.status] !== false) shown.push(d);
      });
      // Alarms drawn last (on top), the most severe last of all.
      shown.sort(function (a, b) { return (ORDER[a.status] - ORDER[b.status]) || (a.level - b.level); });
      group.clearLayers();
      shown.forEach(function (d) {
        var alarm = d.status === 'alarm';
        var m = L.circleMarker([d.lat, d.lng], {
          renderer: renderer, radius: alarm ? 7 : 5, weight: d.status === 'inactive' ? 2 : 1,
          color: d.status === 'inactive' ? COLOURS.inactive : '#ffffff',
          fillColor: colour(d), fillOpacity: d.status === 'inactive' ? 0 : 0.95, bubblingMouseEvents: false
        });
        m.bindTooltip(d.id + ' · ' + typeName(d.type) + ' · ' + statusText(d));
        m.bindPopup(function () { return popup(d); });
        m.deviceId = d.id;
        group.addLayer(m);
        if (cfg.focus && !focused && d.id === cfg.focus.id) {
          focused = true;
          map.setView([d.lat, d.lng], 17);
          m.openPopup();
        }
      });
      Object.keys(counts).forEach(function (k) { var e = $('count-' + k); if (e) e.textContent = fmt(counts[k]); });
      var total = counts.normal + counts.alarm + counts.offline + counts.inactive;
      $('mon-shown').textContent = (T.shown_of || '').replace('{n}', fmt(shown.length)).replace('{total}', fmt(total));
    }
    function alarms() {
      var list = $('mon-alarms');
      $('alarm-total').textContent = fmt(data.alarms_total);
      var rows = data.alarms.filter(function (a) { return !a.type || wanted({ type: a.type }); }).map(function (a) {
        var li = node('li', seen[a.id] || first ? null : 'fresh');
        seen[a.id] = true;
        var lvl = node('span', 'lvl lvl-' + a.level);
        var dot = node('span', 'dot');
        dot.setAttribute('aria-hidden', 'true');
        lvl.appendChild(dot);
        lvl.appendChild(document.createTextNode((N.levels || {})[a.level] || a.level));
        li.appendChild(lvl);
        var link = node('a', null, a.device_name || a.device_id);
        link.href = '/monitoring/devices/' + encodeURIComponent(a.device_id);
        li.appendChild(link);
        li.appendChild(node('span', 'sub', a.value + ' ' + a.unit + ' · ' + a.raised_at.slice(5) + ' · ' + a.rule + (a.status === 'raised' ? '' : ' · ' + a.status_name)));
        return li;
      });
      first = false;
      if (!rows.length) rows = [node('li', 'muted', T.no_active_alarms)];
      list.replaceChildren.apply(list, rows);
    }
    var seen = {}, first = true;
    var loading = false, again = false, last = 0, timer = null;
    function load() {
      if (loading) { again = true; return; }
      loading = true;
      last = Date.now();
      fetch('/ui/monitoring/devices.json', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) {
          if (r.status === 401) { location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search)); throw new Error('unauthenticated'); }
          return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || ('HTTP ' + r.status)); return j; });
        })
        .then(function (j) { data = j; draw(); alarms(); })
        .catch(function (e) { console.warn(e); })
        .then(function () { loading = false; if (again) { again = false; schedule(); } });
    }
    function schedule() {
      if (timer) return;
      timer = setTimeout(function () { timer = null; load(); }, Math.max(0, REFRESH_MS - (Date.now() - last)));
    }
    lifelineSel.addEventListener('change', function () { syncTypes(); draw(); if (data) alarms(); });
    typeSel.addEventListener('change', function () { draw(); if (data) alarms(); });
    statusBoxes.forEach(function (b) { b.addEventListener('change', draw); });
    syncTypes();
    load();

    var live = $('mon-live');
    function setLive(on) {
      live.className = 'mon-live ' + (on ? 'on' : 'off');
      live.querySelector('.txt').textContent = on ? T.live_on : T.live_off;
    }
    if (window.EventSource) {
      var es = new EventSource('/monitoring/events');
      es.addEventListener('ready', function () { setLive(true); });
      es.addEventListener('alarm', function () { setLive(true); schedule(); });
      es.addEventListener('resync', schedule);
      es.onerror = function () { setLive(false); };
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
