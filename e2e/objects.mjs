// 一码管全域 clicked through in the browser (issue 14): the demo's responsible party `shop1` finds its shop in the
// console, scans its label on the phone and self-checks item by item (one item failing, with a photo); the inspector
// whose community holds the shop inspects it on the phone with the phone's position, finding an item failing that
// the self-check called fine (双保险: a discrepancy), which opens a rectification; the platform's 三教而罚 ladder sends
// notice 1 (教育提醒) on its own, and the supervisor sees it with its deadline on the object's page, the public sees it
// on the scan page. Notices 2 and 3 and the enforcement case need days on the working calendar, which a live server
// cannot skip: the browser follows them on a record of the demo's history (three weeks run by the same service on a
// manual clock) — three notices, each after the last expired, then the enforcement case naming the object — and
// `crates/cityops-ui/tests/objects.rs` drives the whole ladder on a manual clock. Then screenshots of the label
// sheets, the discrepancies and the statistics.
//
//   node e2e/objects.mjs --base URL --store sqlite|postgres --shots DIR --accounts FILE
import assert from 'node:assert/strict';
import { flags, launch, context, login, shot, setShotDir, accounts, photo, step, pageErrors, shotsOnFailure } from './lib.mjs';

const f = flags();
setShotDir(f.shots || 'target/screenshots');
const people = accounts(f.accounts);
assert.ok(people.length > 0, 'the demo account list is needed (--accounts)');
const browser = await launch();
const open = (kind, extra) => context(browser, f.base, kind, extra);

/** Marks an item of the check form failing with a note and, when given, a photo (uploaded at once). */
async function fail(page, item, note, picture) {
  await page.locator(`#m-item-${item} label.m-fail`).click();
  await page.locator(`#m-n-${item}`).fill(note);
  if (picture) {
    await page.locator(`#m-p-${item}`).setInputFiles(picture);
    await page.locator(`#m-item-${item} input[type=hidden][name="p.${item}"]`).waitFor({ state: 'attached' });
  }
}

let failed = false;
try {
  // 1. shop1 finds its shop in the console.
  step(`[${f.store}] shop1 finds its object`);
  const desk = await open('desk');
  await login(desk.page, 'shop1', undefined, '/objects');
  await desk.page.goto('/objects');
  const row = desk.page.locator('#object-table tr.obj-row').first();
  await row.waitFor();
  const code = await row.getAttribute('data-code');
  assert.match(code, /^\d{16}$/);
  const object = await desk.page.evaluate(async (c) => (await fetch(`/api/v1/objects/${c}`)).json(), code);
  assert.ok(object.community_code, 'the object lies in a community');
  step(`object ${code} (${object.name}) in community ${object.community_code}`);
  await shot(desk.page, 'objects-shop1');

  // 2. shop1 scans the label and self-checks: 0102 failing with a photo, the rest fine.
  step('shop1 self-checks on the phone');
  const shop = await open('phone', { geolocation: { longitude: object.lng, latitude: object.lat } });
  await login(shop.page, 'shop1', undefined, `/m/o/${code}`);
  await shop.page.goto(`/m/o/${code}`);
  await shop.page.locator('#m-check[data-kind="self_check"]').waitFor();
  await fail(shop.page, '0102', '后门临时堆放纸箱，今天清走', await photo(shop.page, 'self-check'));
  await shot(shop.page, 'phone-object-self-check');
  await shop.page.locator('#m-check-submit').click();
  await shop.page.locator('#m-outcome', { hasText: /自查已提交/ }).waitFor();
  await shot(shop.page, 'phone-object-self-check-done');

  // 3. The inspector of the shop's community inspects it at the shop: 0101 failing (the self-check said fine).
  const inspector = people.find((p) => p.roles.split(';').includes('inspector') && p.region_code === object.community_code);
  assert.ok(inspector, `an inspector of community ${object.community_code}`);
  step(`${inspector.username} inspects on the phone`);
  const insp = await open('phone', { geolocation: { longitude: object.lng, latitude: object.lat } });
  await login(insp.page, inspector.username, undefined, `/m/o/${code}`);
  await insp.page.goto(`/m/o/${code}`);
  await insp.page.locator('#m-check[data-kind="inspection"]').waitFor();
  await insp.page.locator('#m-check-where[data-located]').waitFor();
  await fail(insp.page, '0101', '店外摆卖，占用人行道', await photo(insp.page, 'inspection'));
  await fail(insp.page, '0102', '纸箱仍未清理', await photo(insp.page, 'inspection-2'));
  await shot(insp.page, 'phone-object-inspection');
  await insp.page.locator('#m-check-submit').click();
  await insp.page.locator('#m-outcome', { hasText: /巡查已提交/ }).waitFor();
  await insp.page.locator('#m-discrepancies', { hasText: '自查合格、巡查不合格' }).waitFor();
  await insp.page.locator('#m-opened').waitFor();
  const far = await insp.page.locator('#m-position[data-far]').count();
  assert.equal(far, 0, 'scanned at the shop: not flagged');
  await shot(insp.page, 'phone-object-inspection-done');

  // 4. The ladder sends notice 1 by itself; the supervisor sees it with its deadline on the object's page.
  step('notice 1 (教育提醒) on the object page');
  const sup = await open('desk');
  await login(sup.page, 'supervisor');
  const deadline = Date.now() + 120_000;
  for (;;) {
    await sup.page.goto(`/objects/${code}`);
    if (await sup.page.locator('#rectifications .notice-line', { hasText: '教育提醒' }).count()) break;
    if (Date.now() > deadline) throw new Error('notice 1 was not sent within two minutes');
    await sup.page.waitForTimeout(3000);
  }
  await sup.page.locator('#rectifications [data-stage="notice1"]', { hasText: '0101' }).waitFor();
  await sup.page.locator('#discrepancies', { hasText: '自查合格、巡查不合格' }).waitFor();
  await sup.page.waitForTimeout(800); // the map draws after the page
  await shot(sup.page, 'object');
  // Anyone who scans sees the notice, nothing personal.
  const anon = await open('phone');
  await anon.page.goto(`/m/o/${code}`);
  await anon.page.locator('#m-notices .m-notice', { hasText: '教育提醒' }).first().waitFor();
  const text = await anon.page.locator('main').textContent();
  assert.ok(!text.includes('13800001234'), 'the public card holds no phone number');
  await shot(anon.page, 'phone-object-public');

  // 5. The whole ladder, as the demo's three weeks of history ran it on the working calendar: a record handed to
  // enforcement shows notices 1–3 with their deadlines and the enforcement case on its object's page, and the case
  // carries the evidence (the object's code in its description, the inspections' photos attached).
  step('an unrectified item handed to enforcement (the demo history)');
  const handed = await sup.page.evaluate(async () =>
    (await fetch('/api/v1/rectifications?stage=enforcement&page_size=50')).json());
  const rec = handed.items.find((r) => r.enforcement_case_id);
  assert.ok(rec, 'the demo history holds a record handed to enforcement with its case');
  assert.deepEqual(rec.notices.map((n) => n.stage), ['notice1', 'notice2', 'notice3'], 'three notices before the hand-over');
  for (let i = 1; i < rec.notices.length; i++) {
    assert.ok(Date.parse(rec.notices[i].sent_at) >= Date.parse(rec.notices[i - 1].due), 'each notice after the last one expired');
  }
  await sup.page.goto(`/objects/${rec.object_code}`);
  const article = sup.page.locator(`#rect-${rec.id}`);
  await article.waitFor();
  assert.equal(await article.locator('.notice-line').count(), 3, 'the three notices on the object page');
  await article.locator('.rect-case a').waitFor();
  await shot(sup.page, 'object-enforcement');
  await article.locator('.rect-case a').click();
  await sup.page.waitForURL(/\/cases\/\d+/);
  const kase = await sup.page.evaluate(async (id) => (await fetch(`/api/v1/cases/${id}`)).json(), rec.enforcement_case_id);
  // The description names the object's code as printed on its label (grouped: 441302-02-0000378-0).
  assert.ok(String(kase.description || '').replace(/-/g, '').includes(rec.object_code), 'the enforcement case names the object');
  assert.ok(String(kase.description).includes('警告'), 'the evidence lists the notices');
  await shot(sup.page, 'object-enforcement-case');

  // 6. Screenshots: the list, the label sheets, the discrepancies and the statistics.
  step('screenshots of the object pages');
  for (const [path, name] of [['/objects', 'objects'], [`/objects/labels?street=${object.street_code}`, 'objects-labels'],
    ['/objects/discrepancies', 'objects-discrepancies'], ['/objects/stats', 'objects-stats']]) {
    await sup.page.goto(path);
    await sup.page.waitForTimeout(500);
    await shot(sup.page, name);
  }
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
console.log(failed ? `e2e-objects[${f.store}]: FAILED` : `e2e-objects[${f.store}]: self-check, inspection, notice 1 and a record's three notices to its enforcement case clicked through`);
process.exit(failed ? 1 : 0);
