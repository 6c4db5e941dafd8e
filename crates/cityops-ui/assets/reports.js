/* 报表 (/reports/{id}): the report's days as bars (reported) and a line (closed) with ECharts.
 * Data and texts come from <script id="report-config">; without the script the tables show the
 * same numbers. */
(function () {
  'use strict';
  var el = document.getElementById('report-chart');
  var cfgEl = document.getElementById('report-config');
  if (!el || !cfgEl || typeof echarts === 'undefined') return;
  var cfg = JSON.parse(cfgEl.textContent);
  var chart = echarts.init(el, null, { renderer: 'svg' });
  chart.setOption({
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { data: [cfg.texts.reported, cfg.texts.closed], top: 0 },
    grid: { left: 48, right: 16, top: 32, bottom: 32 },
    xAxis: { type: 'category', data: cfg.days },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: cfg.texts.reported, type: 'bar', data: cfg.reported, itemStyle: { color: '#2563eb' } },
      { name: cfg.texts.closed, type: 'line', data: cfg.closed, itemStyle: { color: '#0f766e' } }
    ]
  });
  window.addEventListener('resize', function () { chart.resize(); });
})();
