/* CityOps console: the login form (posts JSON to the API, which sets the session cookie). */
(function () {
  'use strict';
  var form = document.getElementById('login-form');
  if (!form) return;
  var err = document.getElementById('login-error');
  var btn = form.querySelector('button[type=submit]');
  var label = btn.textContent;
  var d = form.dataset;

  function invalid(on) {
    [form.username, form.password].forEach(function (el) {
      if (on) el.setAttribute('aria-invalid', 'true'); else el.removeAttribute('aria-invalid');
    });
  }
  function show(msg) {
    err.textContent = msg;
    err.hidden = false;
    invalid(true);
  }
  function idle() {
    btn.disabled = false;
    btn.textContent = label;
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    err.hidden = true;
    invalid(false);
    var username = form.username.value.trim();
    var password = form.password.value;
    if (!username || !password) {
      show(d.errRequired);
      (username ? form.password : form.username).focus();
      return;
    }
    btn.disabled = true;
    btn.textContent = d.busy;
    fetch('/api/v1/auth/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify({ username: username, password: password, remember: form.remember.checked })
    }).then(function (r) {
      if (r.ok) {
        location.assign(d.next || '/');
        return;
      }
      return r.json().catch(function () { return {}; }).then(function (j) {
        var msg;
        if (j.code === 'invalid_credentials') msg = d.errInvalid;
        else if (j.code === 'rate_limited') {
          var wait = r.headers.get('Retry-After');
          msg = d.errRate + (wait ? ' (' + wait + ' s)' : '');
        } else msg = d.errGeneric + (j.message || ('HTTP ' + r.status));
        idle();
        show(msg);
        form.password.value = '';
        form.password.focus();
      });
    }, function () {
      idle();
      show(d.errNetwork);
    });
  });
})();
