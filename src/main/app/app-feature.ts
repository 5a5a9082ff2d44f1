import type { appCommands } from '../../shared/contract-app';
import { appName, appVersion } from '../app-version';
import type { EventHub } from '../rpc/contract-router';
import type { FeatureRegistration } from '../rpc/feature-registration';
import { PrefsStore } from '../services/prefs-store';

/** `app.info` and `prefs.*`: what the app is and where its state lives, and the user's preferences. */
export function appFeature(deps: {
  home: string;
  shell: 'electron' | 'serve' | 'cli';
  events: EventHub;
}): FeatureRegistration<keyof typeof appCommands> & { prefs: PrefsStore } {
  const prefs = new PrefsStore(deps.home);
  const stopWatching = prefs.onChange((p) => deps.events.emit('prefs.changed', p));
  return {
    prefs,
    handlers: {
      'app.info': () => ({
        name: appName,
        version: appVersion,
        home: deps.home,
        shell: deps.shell,
        platform: process.platform,
        nodeVersion: process.versions.node,
      }),
      'prefs.get': () => prefs.get(),
      'prefs.set': (patch) => prefs.set(patch),
    },
    dispose: stopWatching,
  };
}
