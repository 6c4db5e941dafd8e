// The closed loop clicked through in the browser (issue 10), then screenshots of every main page.
//
//   node e2e/loop.mjs --base URL --store sqlite|postgres --shots DIR --accounts FILE
//
// Every step of the loop is done the way a person does it — typing, choosing, clicking, taking a photo —
// on the pages a real user has: the inspector reports on the phone, the supervisor files (立案, the 值班长's
// step, STANDARDS §3.8), the dispatcher dispatches to the suggested department, that department's handler
// signs and handles with an after photo on the phone, intake sends it to be checked, the inspector of the
// case's grid checks it on the phone, and the supervisor closes it. Then a citizen reports without an account
// and follows the case with its code and follow token. The demo's account list (written by `cityops demo`)
// says which handler works in which department and which inspector patrols which grid.
import assert from 'node:assert/strict';
import { flags, launch, context, login, shot, setShotDir, accounts, photo, step, pageErrors, shotsOnFailure } from './lib.mjs';

const f = flags();
setShotDir(f.shots || 'target/screenshots');
const people = accounts(f.accounts);
assert.ok(people.length > 0, 'the demo account list is needed (--accounts)');
const browser = await launch();
const open = (kind) => context(browser, f.base, kind);

/** Opens a case in the desktop console the way a person finds it: search the case list by its code, click the row. */
async function openCase(page, code) {
  await page.goto(`/cases?q=${encodeURIComponent(code)}`);
  await Promise.all([page.waitForURL(/\/cases\/\d+/), page.getByRole('link', { name: code }).first().click()]);
  await page.locator('#case-status').waitFor();
}

/** Takes an action from the case page's action card: fills the given fields, clicks the action's button, waits for the new status. */
async function act(page, action, status, fill = async () => {}) {
  const details = page.locator(`details[data-action="${action}"]`);
  if ((await details.count()) > 0 && !(await details.evaluate((d) => d.open))) {
    await details.locator('summary').click();
  }
  const form = page.locator(`#form-${action}`);
  await form.waitFor();
  await fill(form);
  await form.locator(`[data-action-button="${action}"]`).click();
  await page.locator('#case-status', { hasText: status }).waitFor();
}

async function phoneTask(page, code, button) {
  await page.goto('/m/tasks');
  const task = page.locator(`#m-task-${code}`);
  await task.waitFor();
  return task.locator(button);
}

let failed = false;
try {
  // 1. The inspector reports on the phone: photo, position, category found by typing, description.
  step(`[${f.store}] inspector1 reports on the phone`);
  const insp = await open('phone');
  await login(insp.page, 'inspector1', undefined, '/m/report');
  await insp.page.goto('/m/report');
  await shot(insp.page, 'phone-report-inspector');
  await insp.page.locator('#m-photo').setInputFiles(await photo(insp.page, 'before'));
  await insp.page.locator('#m-locate').click();
  await insp.page.locator('#m-lng').evaluate((el) => new Promise((ok) => {
    const t = setInterval(() => { if (el.value) { clearInterval(t); ok(); } }, 50);
  }));
  // 雨水井盖 (01003): dispatched by hand in the demo's matrix (a 一键直达 category would skip the dispatcher).
  await insp.page.locator('#m-cat-search').fill('雨水井盖');
  await insp.page.locator('#m-cat-list button[data-code="01003"][data-kind="component"]:visible').click();
  await insp.page.locator('#m-desc').fill('人行道雨水井盖破损，有行人绊倒的危险（浏览器测试）');
  await insp.page.locator('#m-submit').click();
  const reported = await insp.page.locator('#m-status', { hasText: /\d{13}/ }).textContent();
  const code = reported.match(/\d{13}/)[0];
  step(`reported case ${code}`);
  await shot(insp.page, 'phone-report-done');

  // 2. The supervisor files it (立案).
  step('supervisor files it');
  const sup = await open('desk');
  await login(sup.page, 'supervisor');
  await shot(sup.page, 'overview-supervisor');
  await openCase(sup.page, code);
  await shot(sup.page, 'case-reported');
  await act(sup.page, 'file', /已立案/);

  // 3. The dispatcher dispatches to the suggested department.
  step('dispatcher dispatches');
  const disp = await open('desk');
  await login(disp.page, 'dispatcher');
  await shot(disp.page, 'overview-dispatcher');
  await openCase(disp.page, code);
  const deptName = (await disp.page.locator('#dispatch-department_id option:checked').textContent()).trim();
  await shot(disp.page, 'case-filed');
  await act(disp.page, 'dispatch', /已派遣/);
  const handler = people.find((p) => p.roles.split(';').includes('handler') && deptName.includes(p.department));
  assert.ok(handler, `a demo handler of ${deptName}`);
  step(`dispatched to ${deptName}: ${handler.username} signs and handles`);

  // 4. The department's handler signs and handles it on the phone, with an after photo.
  const hand = await open('phone');
  await login(hand.page, handler.username, undefined, '/m/tasks');
  await (await phoneTask(hand.page, code, '.m-do-sign')).click();
  await hand.page.waitForLoadState('load');
  const after = await phoneTask(hand.page, code, '.m-after-file');
  await after.setInputFiles(await photo(hand.page, 'after'));
  await hand.page.locator(`#m-task-${code} .m-after-id`).evaluate((el) => new Promise((ok) => {
    const t = setInterval(() => { if (el.value) { clearInterval(t); ok(); } }, 50);
  }));
  await hand.page.locator(`#m-task-${code} input[name=comment]`).last().fill('已更换井盖');
  await shot(hand.page, 'phone-tasks-handler');
  await hand.page.locator(`#m-task-${code} .m-do-handle`).click();
  await hand.page.waitForLoadState('load');

  // 5. Intake sends it to be checked (核查); the inspector of its grid checks it on the phone.
  step('intake sends it to be checked');
  const intake = await open('desk');
  await login(intake.page, 'intake');
  await shot(intake.page, 'overview-intake');
  await openCase(intake.page, code);
  await act(intake.page, 'send_check', /核查中/);
  const fields = await intake.page.locator('.case-fields').textContent();
  const grid = (fields.match(/（(\d{15})）/) || [])[1];
  assert.ok(grid, 'the case page names the grid with its code');
  const checker = people.find((p) => p.roles.split(';').includes('inspector') && p.patrol.split(' ').includes(grid));
  assert.ok(checker, `an inspector patrolling grid ${grid}`);
  step(`${checker.username} (grid ${grid}) checks it`);
  const chk = checker.username === 'inspector1' ? insp : await open('phone');
  if (chk !== insp) await login(chk.page, checker.username, undefined, '/m/tasks');
  const pass = await phoneTask(chk.page, code, '.m-do-check-pass');
  await shot(chk.page, 'phone-tasks-inspector');
  await pass.click();
  await chk.page.waitForLoadState('load');

  // 6. The supervisor closes it.
  step('supervisor closes it');
  await openCase(sup.page, code);
  await act(sup.page, 'close', /已结案/);
  await sup.page.locator('#case-timeline').waitFor();
  const events = await sup.page.locator('#case-timeline li').count();
  assert.ok(events >= 8, `the timeline holds every step (${events})`);
  await shot(sup.page, 'case-closed');

  // 7. A citizen reports without an account and follows the case with the code and the follow token.
  step('a citizen reports without an account and follows it');
  const cit = await open('phone');
  await cit.page.goto('/m/report');
  await shot(cit.page, 'phone-report-citizen');
  await cit.page.locator('#m-photo').setInputFiles(await photo(cit.page, 'citizen'));
  await cit.page.locator('#m-locate').click();
  await cit.page.locator('#m-lng').evaluate((el) => new Promise((ok) => {
    const t = setInterval(() => { if (el.value) { clearInterval(t); ok(); } }, 50);
  }));
  await cit.page.locator('#m-cat-search').fill('垃圾');
  await cit.page.locator('#m-cat-list button:visible').first().click();
  await cit.page.locator('#m-desc').fill('小区门口垃圾堆放多日无人清理');
  await cit.page.locator('#m-phone').fill('13800001234');
  await cit.page.locator('#m-submit').click();
  await cit.page.locator('#m-receipt').waitFor();
  const ccode = (await cit.page.locator('#m-receipt-code').textContent()).trim();
  const token = (await cit.page.locator('#m-receipt-token').textContent()).trim();
  assert.match(ccode, /^\d{13}$/);
  assert.ok(token.length >= 20, 'a follow token');
  await shot(cit.page, 'phone-report-receipt');
  await cit.page.goto('/m/follow');
  await cit.page.locator('#m-follow-code').fill(ccode);
  await cit.page.locator('#m-follow-token').fill('wrong-token-0000000000000');
  await cit.page.locator('#m-follow-submit').click();
  await cit.page.locator('#m-follow-missing').waitFor();
  await cit.page.locator('#m-follow-code').fill(ccode);
  await cit.page.locator('#m-follow-token').fill(token);
  await cit.page.locator('#m-follow-submit').click();
  await cit.page.locator('#m-follow-status').waitFor();
  await shot(cit.page, 'phone-follow');

  // 8. Screenshots of the other main pages, desk and phone.
  step('screenshots of the main pages');
  const lead = await open('desk');
  await login(lead.page, 'leader');
  await shot(lead.page, 'overview-leader');
  await lead.page.goto('/screen');
  await lead.page.waitForTimeout(1500); // the charts draw after their data arrives
  await shot(lead.page, 'screen');
  await lead.page.goto('/map');
  await shot(lead.page, 'map');
  // 综合评价: last month's department ranking; a count's link lists as many cases as it says.
  step('综合评价: a figure and its drill-down');
  const lastMonth = new Date(Date.now() + 8 * 3600e3);
  lastMonth.setUTCDate(0); // the last day of the month before (UTC+8 dates)
  const lastDay = lastMonth.toISOString().slice(0, 10);
  const firstDay = `${lastDay.slice(0, 8)}01`;
  await lead.page.goto(`/evaluation/departments?from=${firstDay}&to=${lastDay}`);
  await lead.page.locator('#eval-table').waitFor();
  await lead.page.waitForTimeout(800); // the charts draw after the page
  await shot(lead.page, 'evaluation');
  const figure = lead.page.locator('#eval-table a[data-count]:not([data-count="0"])').first();
  const expected = await figure.getAttribute('data-count');
  await figure.click();
  const total = await lead.page.locator('#drill-total').getAttribute('data-total');
  if (total !== expected) throw new Error(`the drill-down lists ${total} cases, the figure says ${expected}`);
  await shot(lead.page, 'evaluation-cases');
  // 报表: the leader produces last month's report of the city and opens it.
  step('报表: a monthly report on demand');
  await lead.page.goto('/reports');
  await lead.page.locator('#pr-kind').selectOption('monthly');
  await lead.page.locator('#pr-day').fill(lastDay);
  await lead.page.locator('#pr-scope').selectOption('city');
  await lead.page.locator('#produce-form button[type=submit]').click();
  await lead.page.locator('#report-title').waitFor();
  const title = await lead.page.locator('#report-title').textContent();
  if (!title.includes('月报')) throw new Error(`not a monthly report: ${title}`);
  await lead.page.locator('#table-departments').waitFor();
  await lead.page.waitForTimeout(500);
  await shot(lead.page, 'report');
  await lead.page.goto('/reports');
  await shot(lead.page, 'reports');
  for (const [path, name] of [['/cases', 'cases'], ['/regions', 'regions'], ['/components', 'components'], ['/catalogue', 'catalogue']]) {
    await sup.page.goto(path);
    await shot(sup.page, name);
  }
  const adm = await open('desk');
  await login(adm.page, 'admin');
  for (const [path, name] of [['/', 'overview-admin'], ['/org', 'org'], ['/versions', 'versions']]) {
    await adm.page.goto(path);
    await shot(adm.page, name);
  }
  // 运行监测: the alarm wall is open when a gateway posts a gas leak; the alarm appears live (server-sent events)
  // with the case it opened; the administrator acknowledges it; the map, a device page and the rules render.
  step('运行监测: a gas leak on the live alarm wall');
  await adm.page.goto('/monitoring/alarms');
  await adm.page.locator('#mon-live.on').waitFor({ timeout: 15000 });
  const gw = await (await fetch(`${f.base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'gateway', password: 'cityops-demo' }),
  })).json();
  const now = Date.now();
  const leak = await fetch(`${f.base}/api/v1/telemetry`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${gw.token}` },
    body: JSON.stringify({ readings: [0, 31000].map((dt) => ({
      device_id: 'HZ-GAS-000007', metric: 'ch4_lel', value: 62.5, ts: new Date(now + dt).toISOString(),
    })) }),
  });
  if (leak.status !== 200) throw new Error(`telemetry answered ${leak.status}: ${await leak.text()}`);
  const row = adm.page.locator('#alarm-rows tr.alarm-row', { hasText: 'HZ-GAS-000007' }).first();
  await row.waitFor({ timeout: 15000 });
  await row.locator('a[href^="/cases/"]').first().waitFor({ timeout: 15000 });
  await shot(adm.page, 'monitoring-alarms');
  await row.locator('form.ack-form button').click();
  await adm.page.locator('#alarm-rows tr.alarm-row.st-acknowledged', { hasText: 'HZ-GAS-000007' }).first()
    .waitFor({ timeout: 15000 });
  for (const [path, name] of [['/monitoring', 'monitoring-map'], ['/monitoring/devices/HZ-GAS-000007', 'monitoring-device'],
    ['/monitoring/rules', 'monitoring-rules']]) {
    await adm.page.goto(path);
    await adm.page.waitForTimeout(800); // the map and the charts draw after the page
    await shot(adm.page, name);
  }
  await hand.page.goto('/m/tasks');
  await shot(hand.page, 'phone-tasks-handler-done');
  await hand.page.goto('/');
  await shot(hand.page, 'phone-overview-handler');
  await openCase(hand.page, code);
  await shot(hand.page, 'phone-case');
  await hand.page.goto('/m/me');
  await shot(hand.page, 'phone-me');
  const anon = await open('desk');
  await anon.page.goto('/login');
  await shot(anon.page, 'login');
  const anonPhone = await open('phone');
  await anonPhone.page.goto('/login');
  await shot(anonPhone.page, 'login');
} catch (e) {
  failed = true;
  console.error(e);
  await shotsOnFailure();
} finally {
  await browser.close();
}
if (pageErrors.length) {
  console.error(`JavaScript errors on pages:\n${pageErrors.join('\n')}`);
  failed = true;
}
console.log(failed ? `e2e[${f.store}]: FAILED` : `e2e[${f.store}]: the loop was clicked through`);
process.exit(failed ? 1 : 0);
