/* 领导大屏 (/screen): reads the figures from /screen/data.json, draws them (ECharts, Leaflet
 * with the district boundaries and a heat layer of the open cases), and keeps them current over
 * the server-sent events of /screen/events: each change is added to the ticker and the figures
 * are re-read, at most once every REFRESH_MS. The 城市管理指数 panel (when shown) reads the monthly
 * index per district from /api/v1/evaluation/city-index/trend once a minute. Texts come from
 * <script id="screen-config">. */
(function () {
  'use strict';
  var cfgEl = document.getElementById('screen-config');
  if (!cfgEl) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var T = cfg.t || {};
  var REFRESH_MS = 5000;
  var TICKER_MAX = 30;
  var COLOURS = { reported: '#60a5fa', closed: '#34d399', bar: '#60a5fa', bar2: '#a78bfa', bar3: '#fbbf24', axis: '#8aa0bf', grid: '#1e3a5f', text: '#cfe0fa' };

  function $(id) { return document.getElementById(id); }
  function node(tag, cls, s) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (s !== undefined && s !== null) e.textContent = s;
    return e;
  }
  function fmt(n) { return n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'); }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function hhmm(d) { return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }

  // Clock (display only; every figure is the server's).
  function tick() {
    var d = new Date();
    $('sc-clock').textContent = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + hhmm(d);
  }
  tick();
  setInterval(tick, 1000);

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (r.status === 401) {
        location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
        throw new Error('unauthenticated');
      }
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.message || ('HTTP ' + r.status));
        return j;
      });
    });
  }

  // ---- Charts ----------------------------------------------------------------------------------
  var charts = {};
  function chart(id) {
    if (!window.echarts) return null;
    if (!charts[id]) charts[id] = window.echarts.init($(id), null, { renderer: 'canvas' });
    return charts[id];
  }
  var axisLabel = { color: COLOURS.axis, fontSize: 15 };
  var tooltip = { trigger: 'axis', textStyle: { fontSize: 16 }, backgroundColor: '#0f2340', borderColor: '#1e3a5f', axisPointer: { type: 'shadow' } };
  function hbar(id, rows, colour) {
    var c = chart(id);
    if (!c) return;
    var data = rows.slice().reverse();
    c.setOption({
      animation: false,
      grid: { left: 8, right: 56, top: 4, bottom: 4, containLabel: true },
      tooltip: Object.assign({}, tooltip, { textStyle: { fontSize: 16, color: '#e6eefb' } }),
      xAxis: { type: 'value', axisLabel: { show: false }, splitLine: { lineStyle: { color: COLOURS.grid } } },
      yAxis: { type: 'category', data: data.map(function (r) { return r.label; }), axisLabel: { color: COLOURS.text, fontSize: 16, width: 190, overflow: 'truncate' }, axisLine: { lineStyle: { color: COLOURS.grid } }, axisTick: { show: false } },
      series: [{ type: 'bar', data: data.map(function (r) { return r.count; }), itemStyle: { color: colour }, barMaxWidth: 22,
        label: { show: true, position: 'right', color: COLOURS.text, fontSize: 16 } }]
    }, true);
  }
  function trend(rows) {
    var c = chart('chart-trend');
    if (!c) return;
    c.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 34, bottom: 4, containLabel: true },
      legend: { top: 0, right: 8, textStyle: { color: COLOURS.text, fontSize: 16 }, data: [T.reported, T.closed] },
      tooltip: Object.assign({}, tooltip, { axisPointer: { type: 'line' }, textStyle: { fontSize: 16, color: '#e6eefb' } }),
      xAxis: { type: 'category', data: rows.map(function (r) { return r.label; }), axisLabel: axisLabel, axisLine: { lineStyle: { color: COLOURS.grid } } },
      yAxis: { type: 'value', minInterval: 1, axisLabel: axisLabel, splitLine: { lineStyle: { color: COLOURS.grid } } },
      series: [
        { name: T.reported, type: 'line', data: rows.map(function (r) { return r.reported; }), lineStyle: { width: 3, color: COLOURS.reported }, itemStyle: { color: COLOURS.reported }, symbolSize: 6 },
        { name: T.closed, type: 'line', data: rows.map(function (r) { return r.closed; }), lineStyle: { width: 3, color: COLOURS.closed }, itemStyle: { color: COLOURS.closed }, symbolSize: 6 }
      ]
    }, true);
  }
  window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });

  // ---- Map -------------------------------------------------------------------------------------
  var map = null, heat = null, overdueLayer = null, fitted = false;
  function initMap() {
    if (!window.L || map) return;
    map = L.map('screen-map', { zoomControl: false, attributionControl: false, preferCanvas: true, zoomSnap: 0.25, scrollWheelZoom: false });
    if (cfg.tile_url) L.tileLayer(cfg.tile_url, { maxZoom: 19, opacity: 0.55 }).addTo(map);
    var b = cfg.bounds;
    if (b) map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [10, 10] }); else map.setView([23.1, 114.4], 9);
    getJSON('/ui/layers/district.geojson').then(function (fc) {
      var layer = L.geoJSON(fc, { style: function () { return { color: '#60a5fa', weight: 2, opacity: 0.9, fillColor: '#12325c', fillOpacity: 0.55 }; }, interactive: false }).addTo(map);
      layer.bringToBack();
      fc.features.forEach(function (f) {
        if (f.properties && f.properties.label) {
          L.tooltip({ permanent: true, direction: 'center', className: 'lbl-district', interactive: false })
            .setLatLng([f.properties.label[1], f.properties.label[0]]).setContent(node('span', null, f.properties.name)).addTo(map);
        }
      });
    }).catch(function (e) { console.warn(e); });
    overdueLayer = L.layerGroup().addTo(map);
  }
  // The view (the whole city at first, then where the cases are).
  function bboxParam() {
    var v = fitted ? map.getBounds().pad(0.1) : null;
    var b = v ? [v.getWest(), v.getSouth(), v.getEast(), v.getNorth()] : cfg.bounds;
    if (!b) { v = map.getBounds(); b = [v.getWest(), v.getSouth(), v.getEast(), v.getNorth()]; }
    return b.map(function (x) { return Number(x).toFixed(5); }).join(',');
  }
  function drawCases(days) {
    if (!map) return;
    var z = Math.max(6, Math.min(14, Math.floor(map.getZoom()) + 2));
    getJSON('/ui/cases.json?status=open&days=' + days + '&zoom=' + z + '&bbox=' + bboxParam()).then(function (res) {
      var max = 1;
      var pts = (res.cells || []).map(function (c) { max = Math.max(max, c.count); return [c.lat, c.lng, c.count]; });
      // First time: frame where the cases are (a city's cases may fill one district), then
      // read the cells again at that zoom.
      if (!fitted && pts.length) {
        fitted = true;
        map.once('moveend', function () { drawCases(days); });
        map.fitBounds(L.latLngBounds(pts.map(function (p) { return [p[0], p[1]]; })).pad(0.8), { maxZoom: 12, animate: false });
        return;
      }
      if (heat) map.removeLayer(heat);
      if (L.heatLayer) heat = L.heatLayer(pts, { radius: 22, blur: 18, max: max * 0.6, minOpacity: 0.3 }).addTo(map);
    }).catch(function (e) { console.warn(e); });
  }
  function drawOverdue(items) {
    if (!overdueLayer) return;
    overdueLayer.clearLayers();
    items.forEach(function (c) {
      var m = L.circleMarker([c.lat, c.lng], { pane: 'markerPane', radius: 7, color: '#fff', weight: 1.5, fillColor: '#ef4444', fillOpacity: 0.95 });
      m.bindTooltip(c.code + ' ' + c.category + ' · ' + c.overdue_for);
      overdueLayer.addLayer(m);
    });
  }

  // ---- Figures ---------------------------------------------------------------------------------
  function label(row) { return row.kind_name ? row.name + '（' + row.kind_name + '）' : row.name; }
  function rateText(r) { return r === null || r === undefined ? '–' : r.toFixed(1) + '%'; }
  function render(d) {
    $('kpi-reported').textContent = fmt(d.today.reported);
    $('kpi-filed').textContent = fmt(d.today.filed);
    $('kpi-dispatched').textContent = fmt(d.today.dispatched);
    $('kpi-closed').textContent = fmt(d.today.closed);
    $('kpi-closure-rate').textContent = rateText(d.window.closure_rate);
    $('kpi-on-time-rate').textContent = rateText(d.window.on_time_rate);
    $('overdue-total').textContent = fmt(d.overdue_total);
    $('sc-window').textContent = d.window_label + ' ' + fmt(d.window.reported) + ' ' + (T.cases_unit || '');
    Array.prototype.forEach.call(document.querySelectorAll('.sc-win'), function (e) { e.textContent = d.window_label; });
    var body = $('overdue-list');
    var rows = d.overdue.map(function (c) {
      var tr = node('tr');
      var code = node('td', 'code');
      var a = node('a', null, c.code);
      a.href = '/cases/' + c.id;
      code.appendChild(a);
      tr.appendChild(code);
      tr.appendChild(node('td', null, c.category));
      tr.appendChild(node('td', null, c.district));
      tr.appendChild(node('td', 'late', c.overdue_for || ''));
      return tr;
    });
    if (!rows.length) {
      var tr = node('tr', 'empty');
      var td = node('td', null, T.overdue_none);
      td.colSpan = 4;
      tr.appendChild(td);
      rows = [tr];
    }
    body.replaceChildren.apply(body, rows);
    trend(d.trend);
    hbar('chart-category', d.by_category.map(function (r) { return { label: label(r), count: r.count }; }), COLOURS.bar);
    hbar('chart-district', d.by_district.map(function (r) { return { label: r.name, count: r.count }; }), COLOURS.bar2);
    hbar('chart-source', d.by_source.map(function (r) { return { label: r.name, count: r.count }; }), COLOURS.bar3);
    drawOverdue(d.overdue);
    drawCases(d.window_days);
    $('sc-updated').textContent = (T.updated_at || '') + ' ' + hhmm(new Date());
  }
  var loading = false, again = false, lastLoad = 0, timer = null;
  function load() {
    if (loading) { again = true; return; }
    loading = true;
    lastLoad = Date.now();
    getJSON('/screen/data.json' + location.search).then(render).catch(function (e) { console.warn(e); }).then(function () {
      loading = false;
      if (again) { again = false; schedule(); }
    });
  }
  // At most one reload every REFRESH_MS, however many changes arrive.
  function schedule() {
    if (timer) return;
    var wait = Math.max(0, REFRESH_MS - (Date.now() - lastLoad));
    timer = setTimeout(function () { timer = null; load(); }, wait);
  }

  // ---- Live ------------------------------------------------------------------------------------
  var live = $('sc-live');
  function setLive(on) {
    live.className = 'sc-live ' + (on ? 'on' : 'off');
    live.querySelector('.txt').textContent = on ? T.live_on : T.live_off;
  }
  var ticker = $('ticker');
  var tickerEmpty = true;
  function addTicker(ch) {
    if (tickerEmpty) { ticker.replaceChildren(); tickerEmpty = false; }
    var li = node('li', 'fresh');
    var at = new Date(ch.at);
    li.appendChild(node('span', 't', isNaN(at) ? '' : hhmm(at)));
    var dot = node('span', 'light light-' + ch.light);
    dot.setAttribute('aria-hidden', 'true');
    li.appendChild(dot);
    li.appendChild(node('span', 'code', ch.code));
    li.appendChild(node('span', null, (cfg.events || {})[ch.action] || ch.action));
    li.appendChild(node('span', 'muted', (cfg.statuses || {})[ch.status] || ch.status));
    ticker.insertBefore(li, ticker.firstChild);
    while (ticker.children.length > TICKER_MAX) ticker.removeChild(ticker.lastChild);
  }
  function connect() {
    if (!window.EventSource) return;
    var es = new EventSource('/screen/events');
    es.addEventListener('ready', function () { setLive(true); });
    es.addEventListener('change', function (ev) {
      setLive(true);
      try { addTicker(JSON.parse(ev.data)); } catch (e) { console.warn(e); }
      schedule();
    });
    // Fell behind: the changes in between are lost, the figures are read again.
    es.addEventListener('resync', function () { schedule(); });
    es.onerror = function () { setLive(false); };
  }

  // ---- 城市管理指数 --------------------------------------------------------------------------------
  // The monthly index per district (the API keeps computed months a minute), re-read every
  // INDEX_REFRESH_MS: the index moves with whole months, not with each case change.
  var INDEX_REFRESH_MS = 60000;
  var IT = cfg.index_t || {};
  var LINE_COLOURS = ['#60a5fa', '#34d399', '#fbbf24', '#a78bfa', '#f472b6', '#22d3ee', '#fb923c', '#a3e635', '#e879f9', '#94a3b8'];
  function drawIndex(res) {
    var months = res.months || [];
    if (!months.length) return;
    var latest = months[months.length - 1].districts || [];
    // Colours follow this month's ranking; a district missing from it keeps a colour after them.
    var order = latest.map(function (d) { return d.code; });
    months.forEach(function (m) { (m.districts || []).forEach(function (d) { if (order.indexOf(d.code) < 0) order.push(d.code); }); });
    var names = {};
    months.forEach(function (m) { (m.districts || []).forEach(function (d) { names[d.code] = d.name; }); });
    var colour = function (code) { return LINE_COLOURS[order.indexOf(code) % LINE_COLOURS.length]; };
    var labels = months.map(function (m) { return m.month.slice(2); });
    var low = 100;
    var series = order.map(function (code) {
      var data = months.map(function (m) {
        var d = (m.districts || []).filter(function (x) { return x.code === code; })[0];
        if (d) low = Math.min(low, d.index);
        return d ? d.index : null;
      });
      return { name: names[code], type: 'line', data: data, connectNulls: false, symbolSize: 5,
        lineStyle: { width: 2.5, color: colour(code) }, itemStyle: { color: colour(code) } };
    });
    var min = Math.max(0, Math.floor((low - 5) / 10) * 10);
    var c = chart('chart-index-trend');
    if (c) c.setOption({
      animation: false,
      grid: { left: 4, right: 10, top: 10, bottom: 4, containLabel: true },
      tooltip: Object.assign({}, tooltip, { axisPointer: { type: 'line' }, textStyle: { fontSize: 15, color: '#e6eefb' } }),
      xAxis: { type: 'category', data: labels, axisLabel: { color: COLOURS.axis, fontSize: 13 }, axisLine: { lineStyle: { color: COLOURS.grid } } },
      yAxis: { type: 'value', min: min, max: 100, axisLabel: { color: COLOURS.axis, fontSize: 13 }, splitLine: { lineStyle: { color: COLOURS.grid } } },
      series: series
    }, true);
    var r = chart('chart-index-rank');
    if (r) {
      var rows = latest.slice().reverse();
      r.setOption({
        animation: false,
        grid: { left: 4, right: 48, top: 4, bottom: 4, containLabel: true },
        tooltip: Object.assign({}, tooltip, { textStyle: { fontSize: 15, color: '#e6eefb' } }),
        // The same scale as the lines beside (the labels give the exact values).
        xAxis: { type: 'value', min: min, max: 100, axisLabel: { show: false }, splitLine: { show: false } },
        yAxis: { type: 'category', data: rows.map(function (d) { return d.rank + ' ' + d.name; }), axisLabel: { color: COLOURS.text, fontSize: 15, width: 120, overflow: 'truncate' }, axisLine: { lineStyle: { color: COLOURS.grid } }, axisTick: { show: false } },
        series: [{ type: 'bar', name: IT.index_ranking, barMaxWidth: 18,
          data: rows.map(function (d) { return { value: d.index, itemStyle: { color: colour(d.code) } }; }),
          label: { show: true, position: 'right', color: COLOURS.text, fontSize: 15 } }]
      }, true);
    }
  }
  function loadIndex() {
    getJSON('/api/v1/evaluation/city-index/trend?months=12').then(drawIndex).catch(function (e) { console.warn(e); });
  }

  // ---- 运行监测报警 -----------------------------------------------------------------------------
  // Active alarms by lifeline and level and the newest few from /screen/alarms.json, re-read
  // (throttled) when /monitoring/events announces an alarm change, and once a minute anyway; new
  // and escalated alarms also go to the ticker.
  var AN = cfg.alarm_names || {};
  function drawAlarms(d) {
    $('alarm-total').textContent = fmt(d.total);
    // The counts by level, most severe first, each with its name.
    var levels = $('alarm-levels');
    levels.replaceChildren.apply(levels, [3, 2, 1].map(function (k) {
      return node('span', 'lvl lvl-' + k, ((AN.levels || {})[k] || k) + ' ' + fmt(d.levels[k - 1]));
    }));
    // One tile per lifeline; its number takes the colour of its most severe alarm, the levels in
    // words in the tile's title.
    var box = $('alarm-lifelines');
    var tiles = d.by_lifeline.map(function (l) {
      var top = l.levels[2] ? 3 : l.levels[1] ? 2 : l.levels[0] ? 1 : 0;
      var t = node('div', 'sc-lifeline' + (top ? ' top-' + top : ''));
      t.title = [3, 2, 1].map(function (k) { return ((AN.levels || {})[k] || k) + ' ' + l.levels[k - 1]; }).join(' · ');
      t.appendChild(node('span', 'lbl', l.name));
      t.appendChild(node('span', 'num', fmt(l.total)));
      return t;
    });
    box.replaceChildren.apply(box, tiles);
    var list = $('alarm-newest');
    var rows = d.newest.map(function (a) {
      var li = node('li');
      li.appendChild(node('span', 't', String(a.at).slice(11)));
      li.appendChild(node('span', 'lvl lvl-' + a.level, a.level_name));
      var dev = node('a', 'dev', a.device_name);
      dev.href = '/monitoring/devices/' + encodeURIComponent(a.device_id);
      li.appendChild(dev);
      li.appendChild(node('span', 'rule', a.rule));
      li.appendChild(node('span', 'val', a.value + ' ' + a.unit));
      return li;
    });
    if (!rows.length) rows = [node('li', 'muted', cfg.alarms_none)];
    list.replaceChildren.apply(list, rows);
  }
  var alarmTimer = null, alarmLast = 0;
  function loadAlarms() {
    alarmLast = Date.now();
    getJSON('/screen/alarms.json' + location.search).then(drawAlarms).catch(function (e) { console.warn(e); });
  }
  function scheduleAlarms() {
    if (alarmTimer) return;
    var wait = Math.max(0, REFRESH_MS - (Date.now() - alarmLast));
    alarmTimer = setTimeout(function () { alarmTimer = null; loadAlarms(); }, wait);
  }
  function addAlarmTicker(ch) {
    if (tickerEmpty) { ticker.replaceChildren(); tickerEmpty = false; }
    var li = node('li', 'fresh alarm');
    var at = new Date(ch.at);
    li.appendChild(node('span', 't', isNaN(at) ? '' : hhmm(at)));
    var dot = node('span', 'light alarm-l' + ch.level);
    dot.setAttribute('aria-hidden', 'true');
    li.appendChild(dot);
    li.appendChild(node('span', null, ch.what_name + ' · ' + ch.level_name));
    li.appendChild(node('span', 'code', ch.device_name || ch.device_id));
    li.appendChild(node('span', 'muted', ch.rule + ' ' + ch.value + ' ' + ch.unit));
    ticker.insertBefore(li, ticker.firstChild);
    while (ticker.children.length > TICKER_MAX) ticker.removeChild(ticker.lastChild);
  }
  function connectAlarms() {
    if (!window.EventSource) return;
    var es = new EventSource('/monitoring/events' + location.search);
    es.addEventListener('alarm', function (ev) {
      try {
        var ch = JSON.parse(ev.data);
        if (ch.what === 'raised' || ch.what === 'escalated') addAlarmTicker(ch);
      } catch (e) { console.warn(e); }
      scheduleAlarms();
    });
    es.addEventListener('resync', scheduleAlarms);
  }

  function start() {
    initMap();
    load();
    connect();
    if (cfg.alarms && $('sc-alarms')) {
      loadAlarms();
      connectAlarms();
      setInterval(scheduleAlarms, 60000);
    }
    if (cfg.index && $('chart-index-trend')) {
      loadIndex();
      setInterval(loadIndex, INDEX_REFRESH_MS);
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
