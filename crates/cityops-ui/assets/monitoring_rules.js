/* 报警规则 (/monitoring/rules): the new rule's form shows only the parameters of the kind chosen
 * (the others are hidden and disabled, so they are not sent); noise and waterlogging rules watch
 * a fixed metric, so the metric is hidden for them. Without JS every parameter is shown and the
 * server reads those of the kind chosen. */
(function () {
  'use strict';
  Array.prototype.forEach.call(document.querySelectorAll('form[data-rule-form]'), function (form) {
    var select = form.querySelector('[data-kind-select]');
    if (!select) return;
    var metric = form.querySelector('[data-metric-field]');
    function sync() {
      var kind = select.value;
      Array.prototype.forEach.call(form.querySelectorAll('fieldset[data-kind]'), function (fs) {
        var on = fs.dataset.kind === kind;
        fs.hidden = !on;
        fs.disabled = !on;
      });
      if (metric) metric.hidden = kind === 'construction_noise' || kind === 'waterlogging';
    }
    select.addEventListener('change', sync);
    sync();
  });
})();
