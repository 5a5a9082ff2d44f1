/** Electron IPC channel names, one per contract command and event; nothing else crosses the preload. */
export const ipcChannelPrefix = { command: 'ptw:cmd:', event: 'ptw:evt:' } as const;

export function commandChannel(command: string): string {
  return ipcChannelPrefix.command + command;
}

export function eventChannel(event: string): string {
  return ipcChannelPrefix.event + event;
}
