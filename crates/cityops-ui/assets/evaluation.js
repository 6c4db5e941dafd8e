/* 综合评价 (/evaluation): sorts the ranking by any column heading (a second click reverses; the
 * server's order is rank order, so without this script the table stays ranked), and draws the
 * scores of the shown subjects and the grades of all subjects with ECharts. Data and texts come
 * from <script id="eval-config">. */
(function () {
  'use strict';
  var GRADE_COLOURS = { A: '#0f766e', B: '#2563eb', C: '#64748b', D: '#c2410c', E: '#9f1239' };

  // ---- Sorting ---------------------------------------------------------------------------------
  var table = document.querySelector('table[data-sortable]');
  if (table) {
    var hint = document.querySelector('[data-sort-hint]');
    if (hint) hint.hidden = false;
    // The second heading row sticks just below the first (its height depends on the fonts).
    var group = table.tHead && table.tHead.querySelector('th.group');
    if (group && table.tHead.rows[1]) {
      Array.prototype.forEach.call(table.tHead.rows[1].cells, function (th) { th.style.top = group.offsetHeight + 'px'; });
    }
    var body = table.tBodies[0];
    var state = { col: 0, dir: 1 };
    var value = function (row, col, type) {
      var cell = row.cells[col];
      if (!cell) return null;
      var v = cell.getAttribute('data-v');
      if (v === null || v === '') return null;
      if (type === 'num') { var n = Number(v); return isNaN(n) ? null : n; }
      return v;
    };
    var sortBy = function (col, type, dir) {
      var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r.cells.length > 1; });
      rows.sort(function (a, b) {
        var x = value(a, col, type), y = value(b, col, type);
        // Empty values (nothing due) last, whatever the direction.
        if (x === null && y === null) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        var c = type === 'num' ? x - y : String(x).localeCompare(String(y), document.documentElement.lang);
        if (c === 0) c = Number(a.cells[0].getAttribute('data-v')) - Number(b.cells[0].getAttribute('data-v'));
        return dir * c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    };
    table.addEventListener('click', function (ev) {
      var btn = ev.target.closest && ev.target.closest('button.sort');
      if (!btn) return;
      var col = Number(btn.getAttribute('data-col'));
      var type = btn.getAttribute('data-type');
      // First click: rank and text ascending, numbers descending (best first); then reverse.
      var first = (col === 0 || type === 'text') ? 1 : -1;
      state.dir = state.col === col ? -state.dir : first;
      state.col = col;
      sortBy(col, type, state.dir);
      Array.prototype.forEach.call(table.querySelectorAll('thead th'), function (th) { th.removeAttribute('aria-sort'); });
      btn.closest('th').setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
    });
  }

  // ---- Charts ----------------------------------------------------------------------------------
  var cfgEl = document.getElementById('eval-config');
  if (!cfgEl) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var T = cfg.t || {};
  function draw() {
    if (!window.echarts) return;
    var charts = [];
    var scoresEl = document.getElementById('chart-scores');
    var s = cfg.scores || { names: [], values: [], grades: [] };
    if (scoresEl) {
      var c1 = window.echarts.init(scoresEl, null, { renderer: 'canvas' });
      var many = s.names.length > 25;
      c1.setOption({
        animation: false,
        grid: { left: 8, right: 16, top: 16, bottom: many ? 48 : 8, containLabel: true },
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return v + ' ' + (T.axis || ''); } },
        xAxis: { type: 'category', data: s.names, axisLabel: { interval: many ? 'auto' : 0, rotate: s.names.length > 8 ? 35 : 0, width: 110, overflow: 'truncate' } },
        yAxis: { type: 'value', min: 0, max: 100, name: T.axis || '' },
        dataZoom: many ? [{ type: 'slider', start: 0, end: Math.min(100, 2500 / s.names.length), height: 18, bottom: 6 }, { type: 'inside' }] : [],
        series: [{
          type: 'bar', name: T.scores, barMaxWidth: 28,
          data: s.values.map(function (v, i) { return { value: v, itemStyle: { color: GRADE_COLOURS[s.grades[i]] || '#2563eb' } }; }),
          label: { show: !many, position: 'top', fontSize: 11 }
        }]
      }, true);
      charts.push(c1);
    }
    var gradesEl = document.getElementById('chart-grades');
    if (gradesEl) {
      var g = cfg.grades || [];
      var c2 = window.echarts.init(gradesEl, null, { renderer: 'canvas' });
      c2.setOption({
        animation: false,
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: function (v) { return v + ' ' + (T.unit || ''); } },
        xAxis: { type: 'category', data: g.map(function (x) { return x.grade; }) },
        yAxis: { type: 'value', minInterval: 1 },
        series: [{
          type: 'bar', name: T.grades, barMaxWidth: 40,
          data: g.map(function (x) { return { value: x.count, itemStyle: { color: GRADE_COLOURS[x.grade] } }; }),
          label: { show: true, position: 'top' }
        }]
      }, true);
      charts.push(c2);
    }
    window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw); else draw();
})();
