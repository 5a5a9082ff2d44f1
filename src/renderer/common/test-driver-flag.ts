/** Whether the page was opened for the e2e tests (`?testDriver=1`): terminals then register with the test driver. */
export function testDriverEnabled(win: Window): boolean {
  try {
    return new URL(win.location.href).searchParams.get('testDriver') === '1';
  } catch {
    return false;
  }
}
