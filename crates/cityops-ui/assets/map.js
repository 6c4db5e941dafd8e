/* CityOps console map: Leaflet without a basemap.
 * Full map (/map): district and street boundaries, community boundaries, unit grids and
 * components from given zoom levels (fetched by bounding box), click → /api/v1/locate.
 * Region map (region pages, overview): the region, its children (click to open) and, for a grid,
 * its neighbours and components. Texts and settings come from
 * <script id="map-config" type="application/json">. */
(function () {
  'use strict';
  var el = document.getElementById('map');
  var cfgEl = document.getElementById('map-config');
  if (!el || !cfgEl || !window.L) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var T = cfg.t || {};
  var full = cfg.mode === 'full';
  var Z = cfg.zoom || { streets: 9, communities: 12, grids: 15, components: 16 };

  var map = L.map(el, {
    preferCanvas: true, zoomSnap: full ? 0.5 : 0.25, minZoom: 6, maxZoom: 19,
    attributionControl: false, scrollWheelZoom: full
  });
  L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
  // A basemap only where the city runs a tile server (server setting map_tile_url).
  if (cfg.tile_url) L.tileLayer(cfg.tile_url, { maxZoom: 19 }).addTo(map);
  // The case layer (screen_map.js) draws on this map.
  if (full) window.cityopsMap = map;
  var renderer = L.canvas({ padding: 0.4, tolerance: 4 });

  function fit(b, maxZoom) {
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [12, 12], maxZoom: maxZoom || 19 });
  }
  if (cfg.bounds) fit(cfg.bounds, full ? 19 : 17); else map.setView([23.1, 114.4], 10);

  function node(tag, cls, s) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (s !== undefined && s !== null) e.textContent = s;
    return e;
  }
  function fmt(n) { return Number(n).toLocaleString('en-US'); }
  function getJSON(url, signal) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' }, signal: signal })
      .then(function (r) {
        if (r.status === 401) {
          location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
          throw new Error('unauthenticated');
        }
        return r.json().then(function (j) {
          if (!r.ok) { var e = new Error(j.message || ('HTTP ' + r.status)); e.code = j.code; throw e; }
          return j;
        });
      });
  }
  function quiet(e) { if (e && e.name !== 'AbortError') console.warn(e); }
  function bboxOf(b) {
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(',');
  }
  function show(layer, on) {
    if (!layer) return;
    if (on && !map.hasLayer(layer)) map.addLayer(layer);
    if (!on && map.hasLayer(layer)) map.removeLayer(layer);
  }

  var STYLE = {
    district: { color: '#1e3a8a', weight: 2, opacity: 0.9, fillColor: '#ffffff', fillOpacity: cfg.tile_url ? 0.08 : 0.65, renderer: renderer },
    street: { color: '#52627a', weight: 1.2, opacity: 0.85, fill: false, interactive: false, renderer: renderer },
    community: { color: '#94a3b8', weight: 0.9, opacity: 0.95, fill: false, dashArray: '4 3', interactive: false, renderer: renderer },
    grid: { color: '#b9c3d1', weight: 0.7, opacity: 1, fill: false, interactive: false, renderer: renderer },
    highlight: { color: '#1d4ed8', weight: 3, opacity: 1, fillColor: '#1d4ed8', fillOpacity: 0.12, interactive: false, renderer: renderer },
    self: { color: '#1d4ed8', weight: 2.5, opacity: 1, fillColor: '#1d4ed8', fillOpacity: 0.08, interactive: false, renderer: renderer },
    outline: { color: '#1d4ed8', weight: 2.5, opacity: 1, fill: false, interactive: false, renderer: renderer },
    child: { color: '#52627a', weight: 1, opacity: 0.9, fillColor: '#ffffff', fillOpacity: 0.7, renderer: renderer }
  };
  var PALETTE = ['#1d4ed8', '#7c3aed', '#0369a1', '#be185d', '#475569', '#4338ca', '#92400e', '#a21caf', '#334155', '#9f1239'];
  function classColour(code) { return PALETTE[((parseInt(String(code).slice(0, 2), 10) || 1) - 1) % PALETTE.length]; }

  // Labels: a permanent tooltip per region, shown only where the region is wide and tall enough on
  // screen for its name (so labels never pile up when zoomed out).
  function textWidth(s, px) {
    var w = 0;
    for (var i = 0; i < s.length; i++) w += s.charCodeAt(i) > 0x2e80 ? px : px * 0.62;
    return w;
  }
  function LabelSet(fc, cls, px, short) {
    this.group = L.layerGroup();
    this.items = [];
    var self = this;
    fc.features.forEach(function (f) {
      var p = f.properties;
      if (!p.label || !f.bbox) return;
      var name = short ? String(p.code).slice(-3) : p.name;
      self.items.push({
        tip: L.tooltip({ permanent: true, direction: 'center', className: 'lbl ' + cls, interactive: false, opacity: 1 })
          .setLatLng([p.label[1], p.label[0]]).setContent(node('span', null, name)),
        bounds: L.latLngBounds([f.bbox[1], f.bbox[0]], [f.bbox[3], f.bbox[2]]),
        w: textWidth(name, px) + 6,
        h: px + 4
      });
    });
  }
  LabelSet.prototype.update = function (on) {
    show(this.group, on);
    if (!on) return;
    var view = map.getBounds().pad(0.1), group = this.group;
    this.items.forEach(function (it) {
      var fits = false;
      if (view.intersects(it.bounds)) {
        var a = map.latLngToContainerPoint(it.bounds.getSouthWest());
        var b = map.latLngToContainerPoint(it.bounds.getNorthEast());
        fits = (b.x - a.x) >= it.w && (a.y - b.y) >= it.h * 1.6;
      }
      if (fits && !group.hasLayer(it.tip)) group.addLayer(it.tip);
      if (!fits && group.hasLayer(it.tip)) group.removeLayer(it.tip);
    });
  };

  function componentPopup(c) {
    var box = node('div');
    box.appendChild(node('div', 'popup-title', c.name));
    var dl = node('dl', 'locate-list');
    function row(k, v, mono) { dl.appendChild(node('dt', null, k)); dl.appendChild(node('dd', mono ? 'mono' : null, v)); }
    row(T.id, c.id, true);
    row(T.category, ((cfg.categories || {})[c.category_code] || '') + ' ' + c.category_code);
    row(T.status, (T.statuses || {})[c.status] || c.status);
    if (c.grid_code) row(T.grid, c.grid_code, true);
    box.appendChild(dl);
    return box;
  }
  function componentLayer(items, group) {
    items.forEach(function (c) {
      var m = L.circleMarker([c.lat, c.lng], {
        renderer: renderer, radius: 4, weight: 1, color: '#ffffff', opacity: 0.9,
        fillColor: classColour(c.category_code), fillOpacity: 0.95, bubblingMouseEvents: false
      });
      m.bindPopup(function () { return componentPopup(c); });
      group.addLayer(m);
    });
  }

  // ---- Region map --------------------------------------------------------------------------
  if (!full) {
    var r = cfg.region || {};
    var sets = [];
    map.on('zoomend moveend', function () { sets.forEach(function (s) { s.update(true); }); });
    var clickable = function (f, layer) {
      layer.bindTooltip(node('span', null, f.properties.name + ' ' + f.properties.code), { sticky: true });
      layer.on('click', function () { location.assign('/regions/' + f.properties.code); });
    };
    if (r.level === 'grid' && r.bbox) {
      // A grid: its neighbours for context, then the grid itself and its components.
      var w = r.bbox[2] - r.bbox[0], h = r.bbox[3] - r.bbox[1];
      var around = [r.bbox[0] - 2 * w, r.bbox[1] - 2 * h, r.bbox[2] + 2 * w, r.bbox[3] + 2 * h];
      fit(around, 19);
      getJSON('/ui/layers/grid.geojson?bbox=' + around.map(function (v) { return v.toFixed(6); }).join(',')).then(function (fc) {
        L.geoJSON(fc, { style: function () { return STYLE.child; }, onEachFeature: clickable }).addTo(map);
        var s = new LabelSet(fc, 'lbl-grid', 10.5, true);
        sets.push(s); s.update(true);
        return getJSON('/ui/layers/grid.geojson?code=' + encodeURIComponent(r.code));
      }).then(function (fc) {
        L.geoJSON(fc, { style: function () { return STYLE.self; } }).addTo(map);
      }).catch(quiet);
      var cg = L.layerGroup().addTo(map);
      getJSON('/api/v1/components?page_size=1000&bbox=' + around.map(function (v) { return v.toFixed(6); }).join(',')).then(function (page) {
        componentLayer(page.items, cg);
      }).catch(quiet);
      return;
    }
    if (r.child_level) {
      getJSON('/ui/layers/' + r.child_level + '.geojson?parent=' + encodeURIComponent(r.code)).then(function (fc) {
        var kids = L.geoJSON(fc, { style: function () { return STYLE.child; }, onEachFeature: clickable }).addTo(map);
        var grid = r.child_level === 'grid';
        var s = new LabelSet(fc, grid ? 'lbl-grid' : (r.child_level === 'district' ? 'lbl-district' : 'lbl-street'), grid ? 10.5 : 12.5, grid);
        sets.push(s); s.update(true);
        if (!r.bbox && kids.getBounds().isValid()) map.fitBounds(kids.getBounds(), { padding: [12, 12] });
        if (r.level && r.level !== 'city') {
          getJSON('/ui/layers/' + r.level + '.geojson?code=' + encodeURIComponent(r.code)).then(function (own) {
            L.geoJSON(own, { style: function () { return STYLE.outline; } }).addTo(map);
          }).catch(quiet);
        }
      }).catch(quiet);
    }
    return;
  }

  // ---- Full map ----------------------------------------------------------------------------
  var checks = {};
  Array.prototype.forEach.call(document.querySelectorAll('input[data-layer]'), function (cb) {
    checks[cb.dataset.layer] = cb;
    cb.addEventListener('change', refresh);
  });
  function enabled(key) { return !checks[key] || checks[key].checked; }
  function zoom() { return map.getZoom(); }
  var statusEl = document.getElementById('map-status');
  var compInfo = '';
  function status() {
    if (!statusEl) return;
    var parts = [T.zoom + ' ' + zoom()];
    if (enabled('component')) parts.push(zoom() < Z.components ? T.components_zoom_in : compInfo);
    statusEl.textContent = parts.filter(Boolean).join(' · ');
  }

  // Districts and streets: loaded once for the whole city.
  var districts = null, districtLabels = null, streets = null, streetLabels = null;
  getJSON('/ui/layers/district.geojson').then(function (fc) {
    districts = L.geoJSON(fc, { style: function () { return STYLE.district; } });
    districtLabels = new LabelSet(fc, 'lbl-district', 15);
    refresh();
  }).catch(quiet);
  getJSON('/ui/layers/street.geojson').then(function (fc) {
    streets = L.geoJSON(fc, { style: function () { return STYLE.street; } });
    streetLabels = new LabelSet(fc, 'lbl-street', 12.5);
    refresh();
  }).catch(quiet);

  // Communities, grids and components: fetched for the view plus a margin, kept while the view stays
  // inside what was fetched (and the answer was complete).
  function Dynamic(key, minZoom, pad, load, build) {
    this.key = key; this.minZoom = minZoom; this.pad = pad; this.load = load; this.build = build;
    this.group = L.layerGroup(); this.labels = null; this.labelZoom = 99;
    this.loaded = null; this.complete = false; this.ctrl = null;
  }
  Dynamic.prototype.update = function () {
    var on = enabled(this.key) && zoom() >= this.minZoom;
    show(this.group, on);
    if (this.labels) this.labels.update(on && zoom() >= this.labelZoom);
    if (!on) return;
    var view = map.getBounds();
    if (this.loaded && this.complete && this.loaded.contains(view)) return;
    var self = this, padded = view.pad(this.pad);
    if (this.ctrl) this.ctrl.abort();
    this.ctrl = window.AbortController ? new AbortController() : null;
    this.load(bboxOf(padded), this.ctrl && this.ctrl.signal).then(function (data) {
      self.group.clearLayers();
      if (self.labels) show(self.labels.group, false);
      self.labels = null;
      self.complete = self.build(data, self);
      self.loaded = padded;
      if (legendSec && self.key === 'component') legendSec.hidden = !(enabled('component') && zoom() >= Z.components);
      if (self.labels) self.labels.update(enabled(self.key) && zoom() >= self.labelZoom);
      status();
    }).catch(quiet);
  };

  var communities = new Dynamic('community', Z.communities, 0.3,
    function (b, signal) { return getJSON('/ui/layers/community.geojson?bbox=' + b, signal); },
    function (fc, self) {
      L.geoJSON(fc, { style: function () { return STYLE.community; } }).addTo(self.group);
      self.labels = new LabelSet(fc, 'lbl-community', 11.5);
      return !fc.truncated;
    });
  communities.labelZoom = 13;

  var grids = new Dynamic('grid', Z.grids, 0.3,
    function (b, signal) { return getJSON('/ui/layers/grid.geojson?bbox=' + b, signal); },
    function (fc, self) {
      L.geoJSON(fc, { style: function () { return STYLE.grid; } }).addTo(self.group);
      self.labels = new LabelSet(fc, 'lbl-grid', 10.5, true);
      return !fc.truncated;
    });
  grids.labelZoom = 17;

  // Components: pages of 1000 (the API's maximum), at most COMPONENT_PAGES of them per view.
  var COMPONENT_PAGES = 5;
  function loadComponents(b, signal) {
    var all = { items: [], total: 0 };
    function page(n) {
      return getJSON('/api/v1/components?page_size=1000&page=' + n + '&bbox=' + b, signal).then(function (p) {
        all.items = all.items.concat(p.items);
        all.total = p.total;
        if (p.items.length === 1000 && all.items.length < p.total && n < COMPONENT_PAGES) return page(n + 1);
        return all;
      });
    }
    return page(1);
  }
  var legendSec = document.getElementById('legend-sec');
  var legendList = document.getElementById('map-legend');
  function legend(items) {
    if (!legendList) return;
    var counts = {};
    items.forEach(function (c) { var k = String(c.category_code).slice(0, 2); counts[k] = (counts[k] || 0) + 1; });
    var rows = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; }).map(function (k) {
      var li = node('li');
      var dot = node('span', 'dot');
      dot.style.background = classColour(k);
      li.appendChild(dot);
      li.appendChild(node('span', 'legend-name', k + ' ' + ((cfg.classes || {})[k] || '')));
      li.appendChild(node('span', 'legend-count', fmt(counts[k])));
      return li;
    });
    legendList.replaceChildren.apply(legendList, rows);
  }
  var components = new Dynamic('component', Z.components, 0.05, loadComponents,
    function (page, self) {
      componentLayer(page.items, self.group);
      legend(page.items);
      compInfo = (T.components_shown || '').replace('{n}', fmt(page.items.length)).replace('{total}', fmt(page.total));
      return page.items.length >= page.total;
    });

  var highlight = L.layerGroup().addTo(map);
  function refresh() {
    var z = zoom();
    show(districts, enabled('district'));
    if (districtLabels) districtLabels.update(enabled('district') && z < 13);
    show(streets, enabled('street') && z >= Z.streets);
    if (streetLabels) streetLabels.update(enabled('street') && z >= 10 && z < 15);
    communities.update();
    grids.update();
    components.update();
    if (legendSec) legendSec.hidden = !(enabled('component') && z >= Z.components && components.loaded);
    if (districts && map.hasLayer(districts)) districts.bringToBack();
    status();
  }
  map.on('zoomend moveend', refresh);

  // Click → locate.
  var box = document.getElementById('locate-result');
  var here = null;
  function regionRow(dl, label, code, name) {
    dl.appendChild(node('dt', null, label));
    var dd = node('dd');
    if (code) {
      var a = node('a', null, name || code);
      a.href = '/regions/' + encodeURIComponent(code);
      dd.appendChild(a);
      dd.appendChild(node('span', 'mono', code));
    } else {
      dd.appendChild(node('span', 'muted', T.no_grid_here));
    }
    dl.appendChild(dd);
  }
  function outline(level, code) {
    highlight.clearLayers();
    getJSON('/ui/layers/' + level + '.geojson?code=' + encodeURIComponent(code)).then(function (fc) {
      L.geoJSON(fc, { style: function () { return STYLE.highlight; } }).addTo(highlight);
    }).catch(quiet);
  }
  function locate(lng, lat) {
    if (here) map.removeLayer(here);
    here = L.marker([lat, lng], {
      icon: L.divIcon({ className: '', html: '<div class="here-marker"></div>', iconSize: [14, 14], iconAnchor: [7, 7] }),
      keyboard: false, interactive: false
    }).addTo(map);
    if (!box) return;
    box.replaceChildren(node('p', 'muted', T.loading));
    getJSON('/api/v1/locate?lng=' + lng.toFixed(7) + '&lat=' + lat.toFixed(7)).then(function (loc) {
      var dl = node('dl', 'locate-list');
      regionRow(dl, T.grid, loc.grid_code, loc.grid_name);
      regionRow(dl, T.community, loc.community_code, loc.community_name);
      regionRow(dl, T.street, loc.street_code, loc.street_name);
      regionRow(dl, T.district, loc.district_code, loc.district_name);
      dl.appendChild(node('dt', null, T.lng + ' / ' + T.lat));
      dl.appendChild(node('dd', 'mono', loc.lng.toFixed(6) + ', ' + loc.lat.toFixed(6)));
      box.replaceChildren(dl);
      if (loc.grid_code) outline('grid', loc.grid_code);
      else if (loc.community_code) outline('community', loc.community_code);
      else if (loc.street_code) outline('street', loc.street_code);
      else outline('district', loc.district_code);
    }).catch(function (e) {
      highlight.clearLayers();
      box.replaceChildren(node('p', 'form-error', e.code === 'outside_city' ? T.outside_city : T.locate_failed));
    });
  }
  // Click → locate (not on pages that use the map for their own markers: `locate: false`).
  if (cfg.locate !== false) map.on('click', function (ev) { locate(ev.latlng.lng, ev.latlng.lat); });

  if (cfg.region && cfg.region.bbox) {
    fit(cfg.region.bbox);
    outline(cfg.region.level, cfg.region.code);
  }
  if (cfg.focus) {
    map.setView([cfg.focus.lat, cfg.focus.lng], cfg.focus.zoom);
    locate(cfg.focus.lng, cfg.focus.lat);
  }
  refresh();
})();
