/* 监测设备 (/monitoring/devices/{id}): a chart per metric from GET /api/v1/devices/{id}/series —
 * raw readings for 2 hours, minute rollups for 24 hours, hour rollups for 7 and 30 days (the
 * server picks the resolution by the range) — the average as a line with the minimum–maximum
 * band of each bucket, and the alarm thresholds of the device's rules as dashed lines in their
 * level's colour. The range buttons redraw every chart. Settings from <script id="device-config">. */
(function () {
  'use strict';
  var cfgEl = document.getElementById('device-config');
  if (!cfgEl || !window.echarts) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var T = cfg.t || {};
  var RANGES = { '2h': 2 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
  var LEVEL = { 1: '#eab308', 2: '#f97316', 3: '#dc2626' };
  // The server's "now" (its clock may be set apart from this browser's), moving with ours.
  var skew = new Date(cfg.now).getTime() - Date.now();
  var charts = {};
  var range = '24h';

  function msg(el, text) {
    if (charts[el.id]) { charts[el.id].dispose(); delete charts[el.id]; }
    var p = document.createElement('p');
    p.className = 'chart-msg';
    p.textContent = text;
    el.replaceChildren(p);
  }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function stamp(ms) {
    var d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function round(v) { return Math.round(v * 1000) / 1000; }
  function draw(el, m, res) {
    var pts = res.points || [];
    var resNote = document.querySelector('[data-res-for="' + m.metric + '"]');
    if (resNote) resNote.textContent = T[res.resolution] || res.resolution;
    if (!pts.length) { msg(el, T.empty); return; }
    var band = pts[0].min !== null && pts[0].min !== undefined;
    var avg = pts.map(function (p) { return [new Date(p.ts).getTime(), p.value]; });
    var series = [];
    if (band) {
      series.push({ name: T.min, type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, silent: true,
        data: pts.map(function (p) { return [new Date(p.ts).getTime(), p.min]; }) });
      series.push({ name: T.band, type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, silent: true,
        areaStyle: { color: 'rgba(37, 99, 235, .15)' },
        data: pts.map(function (p) { return [new Date(p.ts).getTime(), round(p.max - p.min)]; }) });
    }
    series.push({
      name: band ? T.avg : T.reading, type: 'line', data: avg, showSymbol: pts.length < 60, symbolSize: 4,
      lineStyle: { width: 2, color: '#2563eb' }, itemStyle: { color: '#2563eb' },
      markLine: {
        symbol: 'none', silent: true,
        data: (m.lines || []).map(function (l) {
          return { yAxis: l.value, lineStyle: { color: LEVEL[l.level] || '#dc2626', type: 'dashed', width: 1.5 },
            label: { formatter: l.label, position: 'insideEndTop', color: LEVEL[l.level] || '#dc2626' } };
        })
      }
    });
    var byTs = {};
    pts.forEach(function (p) { byTs[new Date(p.ts).getTime()] = p; });
    var c = charts[el.id];
    if (!c) { el.replaceChildren(); c = charts[el.id] = window.echarts.init(el, null, { renderer: 'svg' }); }
    var lo = Infinity, hi = -Infinity;
    pts.forEach(function (p) { lo = Math.min(lo, band ? p.min : p.value); hi = Math.max(hi, band ? p.max : p.value); });
    (m.lines || []).forEach(function (l) { lo = Math.min(lo, l.value); hi = Math.max(hi, l.value); });
    // Round bounds that hold the readings and the threshold lines.
    var span = (hi - lo) || Math.abs(hi) || 1;
    var mag = Math.pow(10, Math.floor(Math.log10(span / 5)));
    var step = [1, 2, 5, 10].map(function (k) { return k * mag; }).filter(function (s) { return span / s <= 6; })[0] || 10 * mag;
    var yMin = Math.floor(lo / step) * step, yMax = Math.ceil(hi / step) * step;
    if (yMax === hi) yMax += step;
    if (lo >= 0 && yMin < 0) yMin = 0;
    c.setOption({
      animation: false,
      grid: { left: 56, right: 24, top: 16, bottom: 28 },
      tooltip: {
        trigger: 'axis',
        formatter: function (items) {
          var t = items[0] && items[0].value[0];
          var p = byTs[t];
          if (!p) return '';
          var lines = [stamp(t)];
          if (band) {
            lines.push(T.avg + ' ' + round(p.value) + ' ' + m.unit);
            lines.push(T.min + ' ' + round(p.min) + ' · ' + T.max + ' ' + round(p.max));
          } else {
            lines.push(T.reading + ' ' + round(p.value) + ' ' + m.unit);
          }
          return lines.map(function (s) { return s.replace(/[<>&]/g, ''); }).join('<br>');
        }
      },
      xAxis: { type: 'time', min: res.from, max: res.to },
      yAxis: { type: 'value', min: round(yMin), max: round(yMax), interval: step, axisLabel: { hideOverlap: true } },
      series: series
    }, true);
  }
  function load() {
    var to = Date.now() + skew;
    var from = to - RANGES[range];
    (cfg.metrics || []).forEach(function (m) {
      var el = document.getElementById('chart-' + m.metric);
      if (!el) return;
      msg(el, T.loading);
      var url = '/api/v1/devices/' + encodeURIComponent(cfg.device) + '/series?metric=' + encodeURIComponent(m.metric) +
        '&from=' + encodeURIComponent(new Date(from).toISOString()) + '&to=' + encodeURIComponent(new Date(to).toISOString());
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
        return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || ('HTTP ' + r.status)); return j; });
      }).then(function (res) {
        res.from = from;
        res.to = to;
        draw(el, m, res);
      }).catch(function (e) { console.warn(e); msg(el, T.failed); });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('[data-range]'), function (b) {
    b.addEventListener('click', function () {
      range = b.dataset.range;
      Array.prototype.forEach.call(document.querySelectorAll('[data-range]'), function (x) {
        var on = x === b;
        x.classList.toggle('active', on);
        x.setAttribute('aria-pressed', on ? 'true' : 'false');
      });
      load();
    });
  });
  window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  load();
})();
