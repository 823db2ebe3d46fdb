// Which stored answers a viewer may receive, at unit level; test/cache/response-tier-sharing.test.ts shows
// member-tier sharing end to end and test/cache/response-cache.test.ts PRIVATE answers and signed-in viewers.
import { describe, expect, it } from 'vitest';
import {
  ResponseRecorder,
  scopesOf,
  viewerOrganization,
  viewerTier,
} from '../../src/cache/response-cache/response-recorder.ts';

const gold = (organizationId: string | null = null) => ({ tier: 'GOLD', organizationId });
const executed = (viewer: ReturnType<typeof gold> | null, resolve: (context: never) => void) => {
  const recorder = new ResponseRecorder(viewer);
  recorder.arm();
  resolve({ viewer, responseRecorder: recorder } as never);
  recorder.finish({ maxAge: 1800, scope: 'PUBLIC' }, false);
  return recorder.scope();
};

describe('response scopes', () => {
  it('an answer priced by the viewer tier is shared by that tier only', () => {
    const scope = executed(gold(), (context) => expect(viewerTier(context)).toBe('GOLD'));
    expect(scope).toBe('tier=GOLD');
    expect(scopesOf(gold('org-1'))).toContain(scope);
    expect(scopesOf({ tier: 'SILVER', organizationId: null })).not.toContain(scope);
    expect(scopesOf(null)).not.toContain(scope);
  });

  it('anonymous viewers are priced at REGULAR and share with REGULAR members', () => {
    const scope = executed(null, (context) => expect(viewerTier(context)).toBe('REGULAR'));
    expect(scopesOf({ tier: 'REGULAR', organizationId: null })).toContain(scope);
  });

  it('an answer scoped to an organization reaches only its members', () => {
    const scope = executed(gold('org-1'), (context) => expect(viewerOrganization(context)).toBe('org-1'));
    expect(scope).toBe('org=org-1');
    expect(scopesOf({ tier: 'SILVER', organizationId: 'org-1' })).toContain(scope);
    expect(scopesOf(gold('org-2'))).not.toContain(scope);
  });

  it('PRIVATE, maxAge 0, a failed execution or a direct read of a signed-in viewer: not stored', () => {
    for (const [policy, failed] of [
      [{ maxAge: 60, scope: 'PRIVATE' }, false],
      [{ maxAge: 0 }, false],
      [{ maxAge: 60 }, true],
    ] as const) {
      const recorder = new ResponseRecorder(null);
      recorder.finish(policy, failed);
      expect(recorder.scope()).toBeUndefined();
    }
    const direct = new ResponseRecorder(gold());
    direct.arm();
    direct.noteViewerRead();
    direct.finish({ maxAge: 60 }, false);
    expect(direct.scope()).toBeUndefined();
  });
});
