import type { Terminal } from '@xterm/xterm';

/**
 * xterm 6's viewport reveals its scrollbar on every line the output scrolls (VS Code's scrollable element cancels and
 * sets a hide timer each time: a clearTimeout and a setTimeout per line, about a tenth of a flood's parse time in
 * Chromium here, bench:live). The scrollbar still shows while the pointer is over the terminal. This reaches into
 * xterm's private viewport, so it is feature-detected: if a later xterm moves it, only the speed-up is lost (and the
 * live-terminal e2e test, which checks it through the test driver, says so).
 */
export function quietScrollbar(terminal: Terminal): boolean {
  const element = (
    terminal as unknown as {
      _core?: { _viewport?: { _scrollableElement?: { setRevealOnScroll?: (reveal: boolean) => void } } };
    }
  )._core?._viewport?._scrollableElement;
  if (typeof element?.setRevealOnScroll !== 'function') return false;
  element.setRevealOnScroll(false);
  return true;
}
