// Shared helpers of the browser tests: launch Debian's Chromium through playwright-core, log in by
// typing into the login page, take screenshots, read the demo's account list.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const DESKTOP = { width: 1920, height: 1080 };
export const PHONE = { width: 390, height: 844 };

/** Command-line flags `--name value` as an object. */
export function flags(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    out[argv[i].replace(/^--/, '')] = argv[i + 1] ?? '';
  }
  return out;
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--lang=zh-CN'],
  });
}

/** A fresh browser context (own cookies) as a desk or a phone. Huizhou's city centre as the phone's position. */
export async function context(browser, base, kind, extra = {}) {
  const phone = kind === 'phone';
  const ctx = await browser.newContext({
    baseURL: base,
    viewport: phone ? PHONE : DESKTOP,
    deviceScaleFactor: 1,
    isMobile: phone,
    hasTouch: phone,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    ...(phone ? { geolocation: { longitude: 114.4160, latitude: 23.1115 }, permissions: ['geolocation'] } : {}),
    ...extra,
  });
  ctx.setDefaultTimeout(20_000);
  const page = await ctx.newPage();
  openPages.push(page);
  page.on('pageerror', (e) => {
    console.error(`[page error] ${page.url()}: ${e.message}`);
    pageErrors.push(`${page.url()}: ${e.message}`);
  });
  return { ctx, page };
}

/** Every page opened, for the screenshots taken when a step fails. */
export const openPages = [];

/** After a failure: a screenshot of every open page, named FAILED-<n>. */
export async function shotsOnFailure() {
  let n = 0;
  for (const page of openPages) {
    n += 1;
    if (page.isClosed()) continue;
    const file = join(shotDir, `FAILED-${n}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    console.error(`  failure screenshot ${file} (${page.url()})`);
  }
}

/** JavaScript errors seen on any page; the run fails if there are any. */
export const pageErrors = [];

/** Logs in by typing into the login page, as a person would. */
export async function login(page, username, password = 'cityops-demo', next = '/') {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel(/用户名|Username/).fill(username);
  await page.getByLabel(/密码|Password/).fill(password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByRole('button', { name: /登录|Log in|Sign in/ }).click(),
  ]);
}

let shotDir = 'target/screenshots';
export function setShotDir(dir) {
  shotDir = dir;
  mkdirSync(dir, { recursive: true });
}

/** A full-window screenshot named `<name>-<width>x<height>.png`. */
export async function shot(page, name) {
  const vp = page.viewportSize();
  await page.waitForLoadState('networkidle').catch(() => {});
  const file = join(shotDir, `${name}-${vp.width}x${vp.height}.png`);
  await page.screenshot({ path: file });
  console.log(`  screenshot ${file}`);
}

/** The demo's account list (`*.accounts.csv`): rows of username, name, roles, department, region, patrol grids. */
export function accounts(file) {
  if (!file) return [];
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const rows = parseCsv(text);
  const header = rows.shift();
  return rows.filter((r) => r.length === header.length).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** A small real JPEG (a grey 64×48 picture drawn by the browser itself), as a file for `setInputFiles`. */
export async function photo(page, label) {
  const b64 = await page.evaluate((text) => {
    const c = document.createElement('canvas');
    c.width = 320; c.height = 240;
    const g = c.getContext('2d');
    g.fillStyle = '#6b7280'; g.fillRect(0, 0, 320, 240);
    g.fillStyle = '#f59e0b'; g.fillRect(40, 60, 240, 120);
    g.fillStyle = '#111827'; g.font = '28px sans-serif'; g.fillText(text, 60, 130);
    return c.toDataURL('image/jpeg', 0.85).split(',')[1];
  }, label);
  return { name: `${label}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.from(b64, 'base64') };
}

export function step(msg) {
  console.log(`- ${msg}`);
}
