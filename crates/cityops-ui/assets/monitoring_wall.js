/* 报警墙 (/monitoring/alarms): live without reloading. Each alarm change in the viewer's scope
 * arrives over /monitoring/events (server-sent events); the wall then reads this page again (at
 * most once every REFRESH_MS), swaps in the server-rendered rows, counts and navigation, and
 * highlights the rows it had not shown before. A new alarm is also announced to screen readers.
 * The 确认 forms work through htmx (and as plain forms without JS). */
(function () {
  'use strict';
  var REFRESH_MS = 1500;
  var cfgEl = document.getElementById('wall-config');
  if (!cfgEl) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var T = cfg.t || {};
  var $ = function (id) { return document.getElementById(id); };

  function shownIds() {
    var ids = {};
    Array.prototype.forEach.call(document.querySelectorAll('#alarm-rows tr[data-alarm]'), function (tr) { ids[tr.dataset.alarm] = true; });
    return ids;
  }
  // This page without the notices of a past acknowledgement.
  function pageUrl() {
    var q = location.search.replace(/^\?/, '').split('&').filter(function (kv) {
      var k = kv.split('=')[0];
      return kv && k !== 'done' && k !== 'error';
    }).join('&');
    return location.pathname + (q ? '?' + q : '');
  }
  var loading = false, again = false, last = 0, timer = null;
  function refresh() {
    if (loading) { again = true; return; }
    loading = true;
    last = Date.now();
    var before = shownIds();
    fetch(pageUrl(), { credentials: 'same-origin', headers: { Accept: 'text/html' } }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      ['alarm-wall', 'sidenav'].forEach(function (id) {
        var fresh = doc.getElementById(id), old = $(id);
        if (!fresh || !old) return;
        // Notices belong to the acknowledgement that made them, not to a refresh.
        if (id === 'alarm-wall') {
          var n = fresh.querySelector('#action-notice');
          var keep = old.querySelector('#action-notice');
          if (n && !keep) n.remove();
        }
        old.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
      });
      Array.prototype.forEach.call(document.querySelectorAll('#alarm-rows tr[data-alarm]'), function (tr) {
        if (!before[tr.dataset.alarm]) tr.classList.add('fresh');
      });
    }).catch(function (e) { console.warn(e); }).then(function () {
      loading = false;
      if (again) { again = false; schedule(); }
    });
  }
  function schedule() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, Math.max(0, REFRESH_MS - (Date.now() - last)));
  }

  var live = $('mon-live');
  function setLive(on) {
    if (!live) return;
    live.className = 'mon-live ' + (on ? 'on' : 'off');
    live.querySelector('.txt').textContent = on ? T.live_on : T.live_off;
  }
  if (!window.EventSource) return;
  var es = new EventSource('/monitoring/events');
  es.addEventListener('ready', function () { setLive(true); });
  es.addEventListener('alarm', function (ev) {
    setLive(true);
    try {
      var ch = JSON.parse(ev.data);
      if (ch.what === 'raised' || ch.what === 'escalated') {
        $('wall-announce').textContent = T.new_alarm + ' · ' + ch.level_name + ' ' + (ch.device_name || ch.device_id) + ' ' + ch.rule + ' ' + ch.value + ' ' + ch.unit;
      }
    } catch (e) { console.warn(e); }
    schedule();
  });
  es.addEventListener('resync', schedule);
  es.onerror = function () { setLive(false); };
})();
