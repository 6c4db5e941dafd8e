/* CityOps console: the case pages — row click opens the case, the photo viewer, photo upload
   for actions and reviews (to the API, which strips metadata; the form then names the photos),
   the small case map. Everything works without it except the photo upload. */
(function () {
  'use strict';
  var csrf = (document.querySelector('meta[name=csrf-token]') || {}).content || '';

  // On a phone the filters start folded (unless one is set), so the list is seen first.
  var box = document.getElementById('filter-box');
  if (box && window.matchMedia('(max-width: 640px)').matches && !box.dataset.active) box.open = false;

  // Row click opens the case (the code cell is a real link for keyboard and no-JS use).
  document.addEventListener('click', function (ev) {
    var row = ev.target.closest && ev.target.closest('tr[data-href]');
    if (!row || ev.target.closest('a, button, input, select, textarea')) return;
    location.assign(row.getAttribute('data-href'));
  });

  // Photo viewer: a thumbnail opens the full photo in a modal dialog (Esc closes it).
  document.addEventListener('click', function (ev) {
    var a = ev.target.closest && ev.target.closest('a.thumb[data-full]');
    var dlg = document.getElementById('photo-viewer');
    if (!a || !dlg || typeof dlg.showModal !== 'function') return;
    ev.preventDefault();
    var img = dlg.querySelector('img');
    img.src = a.getAttribute('data-full');
    img.alt = (a.querySelector('img') || {}).alt || '';
    dlg.showModal();
  });

  // Photo upload: each chosen photo goes to POST /api/v1/attachments at once; its id becomes a
  // hidden `photos` field of the form (a single-photo input keeps only the last one chosen).
  // The texts come from the nearest container that carries them (the case page, the reviews).
  document.addEventListener('change', function (ev) {
    var input = ev.target;
    if (!input.matches || !input.matches('input[type=file][data-upload]')) return;
    var box = input.parentNode.querySelector('[data-photo-ids]');
    var form = input.form;
    var d = input.closest('[data-uploading]') || document.getElementById('case-main');
    var texts = d ? d.dataset : {};
    if (!input.multiple) {
      Array.prototype.forEach.call(form.querySelectorAll('input[type=hidden][name=photos]'), function (h) { h.remove(); });
      box.textContent = '';
    }
    Array.prototype.forEach.call(input.files, function (file) {
      var status = document.createElement('span');
      status.textContent = (texts.uploading || '…') + ' ' + file.name;
      box.appendChild(status);
      var body = new FormData();
      body.append('file', file);
      fetch('/api/v1/attachments', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'X-CSRF-Token': csrf, 'Accept': 'application/json' }, body: body
      }).then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) throw new Error(j.message || ('HTTP ' + r.status));
          var hidden = document.createElement('input');
          hidden.type = 'hidden'; hidden.name = 'photos'; hidden.value = j.id;
          form.appendChild(hidden);
          var img = document.createElement('img');
          img.src = '/api/v1/attachments/' + j.id + '/thumb';
          img.alt = (texts.uploaded || '') + ' ' + file.name;
          status.replaceWith(img);
        });
      }).catch(function (e) {
        status.textContent = (texts.uploadFailed || '') + e.message;
        status.className = 'field-error';
      });
    });
    input.value = '';
  });

  // The small map of the case page: the point, its grid, open cases nearby (no basemap).
  function caseMap() {
    var el = document.getElementById('case-map');
    var cfgEl = document.getElementById('case-map-config');
    if (!el || !cfgEl || !window.L || el.dataset.ready) return;
    el.dataset.ready = '1';
    var cfg = JSON.parse(cfgEl.textContent);
    var colors = { green: '#16a34a', yellow: '#ca8a04', red: '#dc2626' };
    var map = L.map(el, { attributionControl: false }).setView([cfg.lat, cfg.lng], 17);
    var bounds = L.latLngBounds([[cfg.lat, cfg.lng]]);
    if (cfg.grid) {
      var g = L.geoJSON(cfg.grid, { style: { color: '#1d4ed8', weight: 2, fillOpacity: 0.06 } })
        .bindTooltip(cfg.t.grid).addTo(map);
      bounds.extend(g.getBounds());
    }
    (cfg.nearby || []).forEach(function (c) {
      L.circleMarker([c.lat, c.lng], { radius: 6, color: '#fff', weight: 1, fillColor: colors[c.light] || '#6b7280', fillOpacity: 0.9 })
        .bindTooltip(c.code + ' ' + c.category)
        .on('click', function () { location.assign('/cases/' + c.id); })
        .addTo(map);
    });
    L.circleMarker([cfg.lat, cfg.lng], { radius: 10, color: '#0f1f3d', weight: 3, fillColor: colors[cfg.light] || '#1d4ed8', fillOpacity: 1 })
      .bindTooltip(cfg.t['this'] + ' ' + cfg.code, { permanent: false }).addTo(map);
    map.fitBounds(bounds.pad(0.2), { maxZoom: 18 });
  }
  window.addEventListener('load', caseMap);
  // After htmx swapped the case in place, draw the new map.
  document.addEventListener('htmx:afterSettle', caseMap);
})();
