// What one request's execution tells the response cache: the entity keys and tags its loaders served
// (what a write must purge), whether and how it depended on the viewer (the scope it may be shared
// in), and the cache policy Apollo computed from the @cacheControl hints it touched.
//
// Any read of context.viewer during execution counts as a dependency on the viewer. Resolvers whose
// answer depends only on the viewer's member tier or organization say so through viewerTier /
// viewerOrganization below, so such answers are shared by every viewer of that tier or organization;
// any other read keeps the answer to the viewer class that produced it (anonymous) or unshared.

export interface ScopedViewer {
  organizationId: string | null;
  /** The member tier, when the viewer carries one. */
  tier?: string;
}

/** The tier an anonymous viewer is priced at, and the organization placeholder for "none". */
export const ANONYMOUS_TIER = 'REGULAR';
const NO_ORGANIZATION = '-';

export interface AnswerPolicy {
  maxAge: number;
  scope?: 'PUBLIC' | 'PRIVATE';
}

export class ResponseRecorder {
  readonly touched = new Set<string>();
  policy: AnswerPolicy | undefined;
  private armed = false;
  private readViewer = false;
  private tier: string | undefined;
  private organization: string | undefined;
  private refused = false;
  private minGrace: number | undefined;

  constructor(readonly viewer: ScopedViewer | null) {}

  /** Called by the plugin when execution starts (reads before it, by limits and plugins, do not count). */
  arm(): void {
    this.armed = true;
  }

  noteViewerRead(): void {
    if (this.armed) this.readViewer = true;
  }

  recordTier(tier: string): void {
    this.tier = tier;
  }

  recordOrganization(organization: string): void {
    this.organization = organization;
  }

  /** A field with a cache hint resolved: its stale-while-revalidate grace (stale-grace.ts). */
  noteGrace(seconds: number): void {
    if (this.minGrace === undefined || seconds < this.minGrace) this.minGrace = seconds;
  }

  /** Seconds past maxAge the answer may be served stale while it is refreshed: the minimum it touched. */
  get grace(): number {
    return this.minGrace ?? 0;
  }

  /** Mutations, subscriptions, errors: never stored. */
  refuse(): void {
    this.refused = true;
  }

  finish(policy: AnswerPolicy | null, failed: boolean): void {
    this.armed = false;
    if (failed || !policy) this.refused = true;
    else this.policy = policy;
  }

  /**
   * The scope the answer may be stored under, or undefined when it must not be stored: refused,
   * PRIVATE or maxAge 0, a signed-in viewer read directly, or both tier and organization.
   */
  scope(): string | undefined {
    if (this.refused || !this.policy || this.policy.maxAge <= 0 || this.policy.scope === 'PRIVATE') return undefined;
    if (this.readViewer) return this.viewer === null ? 'anon' : undefined;
    if (this.tier !== undefined && this.organization !== undefined) return undefined;
    if (this.tier !== undefined) return `tier=${this.tier}`;
    if (this.organization !== undefined) return `org=${this.organization}`;
    return 'public';
  }
}

/** Every scope whose stored answers this viewer may receive, most shared first. */
/** Made once: every anonymous request asks for the same scopes. */
const ANONYMOUS_SCOPES: readonly string[] = Object.freeze([
  'public',
  'anon',
  `tier=${ANONYMOUS_TIER}`,
  `org=${NO_ORGANIZATION}`,
]);

export function scopesOf(viewer: ScopedViewer | null): readonly string[] {
  if (viewer === null) return ANONYMOUS_SCOPES;
  return [
    'public',
    ...(viewer.tier === undefined ? [] : [`tier=${viewer.tier}`]),
    `org=${viewer.organizationId ?? NO_ORGANIZATION}`,
  ];
}

interface ScopedContext {
  viewer: ScopedViewer | null;
  responseRecorder?: ResponseRecorder;
}

/** The viewer as the recorder saw it: reading it here is not a direct (unscoped) read. */
function viewerOf(context: ScopedContext): ScopedViewer | null {
  return context.responseRecorder ? context.responseRecorder.viewer : context.viewer;
}

/** The viewer's member tier (REGULAR when anonymous), recorded as the answer's only viewer dependency. */
export function viewerTier(context: ScopedContext): string {
  const tier = viewerOf(context)?.tier ?? ANONYMOUS_TIER;
  context.responseRecorder?.recordTier(tier);
  return tier;
}

/** The viewer's organization (null when none), recorded as the answer's only viewer dependency. */
export function viewerOrganization(context: ScopedContext): string | null {
  const organization = viewerOf(context)?.organizationId ?? null;
  context.responseRecorder?.recordOrganization(organization ?? NO_ORGANIZATION);
  return organization;
}
