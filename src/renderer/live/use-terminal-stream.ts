import { useEffect, useEffectEvent, useRef, useState } from 'react';
import type { ContractClient } from '../../shared/rpc/contract-client';
import { useAppStore, useAppStoreApi } from '../store/store-context';
import { StreamBinding, type StreamBindingOptions, type StreamStatus } from './live-stream-binding';
import { TerminalSurface, type TerminalSurfaceOptions } from './terminal-surface';
import { registerForTestDriver, type DriverTerminal } from './test-driver';

/** What a terminal view adds to the stream: how it opens, what else it listens to, and their dispose. */
export interface TerminalStreamSetup {
  readonly options: Omit<StreamBindingOptions, 'client' | 'sink' | 'onStatus'>;
  /** Called once the binding exists (e.g. to send keystrokes to its stream); returns the dispose of what it added. */
  readonly attach?: (binding: StreamBinding) => () => void;
}

export interface TerminalStreamContext {
  readonly surface: TerminalSurface;
  /**
   * The client for the stream's own commands. Bytes never enter React or the store: they go from the client's
   * events to xterm through the binding.
   */
  readonly client: ContractClient;
  /** This terminal's entry for the e2e test driver (null once disposed). */
  readonly driver: { current: DriverTerminal | null };
}

/**
 * One xterm surface bound to one stream on main, for as long as the component shows `streamKey` (a run id): the
 * surface and binding live in an effect, not in React state; only the stream's status and the renderer's name
 * reach React. A dropped serve connection takes main's end of the stream with it; the binding carries on once
 * it is back.
 */
export function useTerminalStream(
  driverName: string,
  streamKey: string,
  surfaceOptions: TerminalSurfaceOptions,
  setup: (context: TerminalStreamContext) => TerminalStreamSetup,
) {
  const client = useAppStoreApi().client;
  const container = useRef<HTMLDivElement>(null);
  const surfaceRef = useRef<TerminalSurface | null>(null);
  const bindingRef = useRef<StreamBinding | null>(null);
  const [status, setStatus] = useState<StreamStatus>({ phase: 'connecting' });
  const [renderer, setRenderer] = useState('');
  const connected = useAppStore((s) => s.app.connection.status === 'open');
  const setUp = useEffectEvent(setup);
  const { writable, scrollback } = surfaceOptions;

  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const surface = new TerminalSurface(element, { writable, ...(scrollback === undefined ? {} : { scrollback }) });
    surfaceRef.current = surface;
    setRenderer(surface.renderer);
    const driver: { current: DriverTerminal | null } = { current: null };
    const { options, attach } = setUp({ surface, client, driver });
    const binding = new StreamBinding({
      ...options,
      client,
      sink: surface.output,
      onStatus: (next) => {
        if (driver.current) driver.current.status = next;
        setStatus(next);
      },
    });
    const detach = attach?.(binding);
    driver.current = { surface, binding, status: { phase: 'connecting' } };
    const unregister = registerForTestDriver(window, driverName, driver.current);
    bindingRef.current = binding;
    void binding.start();
    return () => {
      bindingRef.current = null;
      unregister();
      detach?.();
      binding.dispose();
      surface.dispose();
      surfaceRef.current = null;
    };
  }, [client, driverName, streamKey, writable, scrollback]);

  useEffect(() => {
    if (connected) bindingRef.current?.connectionRestored();
    else bindingRef.current?.connectionLost();
  }, [connected]);

  return { container, surfaceRef, bindingRef, status, renderer };
}
