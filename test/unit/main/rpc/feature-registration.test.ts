import { describe, expect, it } from 'vitest';
import { featureHandlers, type AnyFeatureRegistration } from '../../../../src/main/rpc/feature-registration';

// The type refuses a list that leaves a command without a handler (app-services.ts would not compile); at run time
// two features claiming one command are refused.
describe('featureHandlers', () => {
  it('joins the features’ handlers into one table', () => {
    const a = { handlers: { 'app.info': () => undefined } };
    const b = { handlers: { 'prefs.get': () => undefined } };
    const table = featureHandlers([a, b] as unknown as never) as unknown as Record<string, unknown>;
    expect(Object.keys(table).sort()).toEqual(['app.info', 'prefs.get']);
  });

  it('refuses a command two features both register', () => {
    const twice: AnyFeatureRegistration[] = [
      { handlers: { 'app.info': () => undefined } } as unknown as AnyFeatureRegistration,
      { handlers: { 'app.info': () => undefined } } as unknown as AnyFeatureRegistration,
    ];
    expect(() => featureHandlers(twice as unknown as never)).toThrow(/Two features register the command app.info/);
  });
});
