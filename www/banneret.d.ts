// TypeScript declarations for banneret's public module (banneret.js). The
// shapes mirror the crate's JSON (src/marketing/result.rs, request.rs,
// ideate.rs) and the error table (errors.js); tests/e2e/package.test.mjs
// type-checks a page written against them.

/** What Banneret.availability() reports, as Chrome's on-device writing APIs do. */
export type Availability = "unavailable" | "downloadable" | "downloading" | "available";

export type ContentKind = "banner" | "search_ad" | "social_post" | "email_subject" | "product_blurb";
export type Tone = "formal" | "neutral" | "casual";
export type RewriteOperation = "shorter" | "longer" | "more-formal" | "more-casual";

/** A model file: a URL, or a descriptor checked as it streams. */
export interface ModelDescriptor {
  url: string;
  /** Hex SHA-256 of the whole file; a mismatch fails with DataError/integrity. */
  sha256?: string;
  /** Expected size in bytes (progress total before the server says). */
  bytes?: number;
  /** Language tags this model serves ("en", "de-DE"); "*" = any. Default ["*"]. */
  locales?: string[];
}

/** Sampling overrides, Hugging Face names; unset fields keep the kind's defaults. */
export interface GenerationOverrides {
  max_new_tokens?: number;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  repetition_penalty?: number;
  stop?: string[];
}

/** A visitor profile in the fixture format (www/stores/<store>/profiles/*.json). */
export interface Profile {
  id?: string;
  consent?: { personalization: boolean };
  locale?: string;
  interests?: { topic: string; weight: number }[];
  viewed?: { sku: string; count?: number; last?: string }[];
  cart?: { sku: string; qty?: number; added?: string }[];
  purchased?: { sku: string; date?: string }[];
  searches?: string[];
  visits?: { count: number; first: string | null; last: string | null };
  /** The campaign the visitor came through (UTM values). */
  referrer?: { source?: string; medium?: string; campaign?: string } | null;
  context?: { local_time?: string; device?: string; color_scheme?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Something a profile can be read from at request time. */
export type ProfileSource = Profile | (() => Profile | null | undefined) | { get(): Profile | null | undefined };

export interface WriteRequest {
  kind?: ContentKind;
  /** Marketing goal, e.g. "winter sale". */
  goal?: string;
  tone?: Tone;
  /** Language of the copy; default: the profile's, then the page's. */
  locale?: string;
  /** ISO date the copy is for (promotions are checked against it). */
  date?: string;
  profile?: ProfileSource;
  /** Variants drawn (different seeds), ranked after the checks. */
  num_return_sequences?: number;
  seed?: number;
  /** Regeneration rounds when no variant passes the checks. */
  max_retries?: number;
  options?: GenerationOverrides;
}

export interface RewriteRequest {
  kind?: ContentKind;
  /** The copy to rewrite, field name → text. */
  copy: Record<string, string>;
  operation: RewriteOperation;
  locale?: string;
  num_return_sequences?: number;
  seed?: number;
  max_retries?: number;
  options?: GenerationOverrides;
}

export interface Check {
  name: string;
  field?: string | null;
  pass: boolean;
  detail?: string | null;
  spans?: string[];
}

export interface Signal {
  kind: string;
  source: string;
  detail: string;
  sku?: string | null;
  weight: number;
  personal: boolean;
}

export interface FeaturedProduct {
  sku: string;
  name: string;
  category?: string | null;
  price: string;
  sale_price?: string | null;
  discount_percent?: number | null;
  features: string[];
}

/** What to say and why: the marketer's "why you see this". */
export interface Plan {
  personalized: boolean;
  angle: "cart_reminder" | "sale_on_viewed" | "viewed_item" | "gift_idea" | "interest_match" | "campaign" | "welcome" | string;
  frame: "AIDA" | "PAS" | "FAB" | "BAB";
  featured: string[];
  products: FeaturedProduct[];
  promotion?: { id: string; text: string } | null;
  keywords: string[];
  signals: Signal[];
  ranking: { sku: string; score: number }[];
  why: string;
  visitor_phrase?: string | null;
  goal?: string | null;
  tone: Tone;
  language: string;
  prefer_short: boolean;
}

export interface Alternative {
  copy: Record<string, string>;
  source: "model" | "fallback";
  seed?: number | null;
  score: { total: number; relevance: number; fluency: number; length_fit: number; distinctness: number };
  checks: Check[];
  repairs: string[];
}

/** One request's result. Put `copy` into the page with textContent only. */
export interface WriteResult {
  kind: ContentKind;
  copy: Record<string, string>;
  /** "fallback": assembled from catalog facts because no model variant passed. */
  source: "model" | "fallback";
  personalized: boolean;
  language: string;
  plan: Plan;
  checks: Check[];
  alternatives: Alternative[];
  /** Model output that failed the checks: for inspection, never for visitors. */
  rejected: { seed: number; attempt: number; raw: string; failed: Check[] }[];
  seed: number;
  attempts: number;
  /** Milliseconds per stage; `create` is time inside the model, `prompt` the part of it spent reading prompts. */
  timings_ms: { ideate: number; create: number; prompt: number; optimize: number; total: number };
  warnings: { field: string; message: string }[];
}

/** A chunk of writeStreaming(): previews are raw, unchecked model text. */
export type WriteChunk =
  | { type: "attempt"; attempt: number; variants: number; seed: number }
  | { type: "preview"; attempt: number; variant: number; text: string; draft: string }
  | { type: "result"; result: WriteResult };

export interface DownloadProgressEvent extends ProgressEvent<EventTarget> {
  readonly type: "downloadprogress";
  /** Where the bytes come from. */
  readonly source: "network" | "cache" | "memory";
}

/**
 * Which model serves which language: language tags (or primary subtags) to a
 * model, "*" for every language not named, e.g.
 * `{ en: "/models/SmolLM2-135M-Instruct.Q4_1.gguf", "*": "/models/gemma-3-270m-q4_k_m.gguf" }`.
 * A request's locale (else its profile's, else the page's) picks the model:
 * exact tag, then language, then "*", then `defaultLanguage`'s model; only
 * that model is downloaded.
 */
export type ModelsByLanguage = Record<string, string | Omit<ModelDescriptor, "locales">>;

export interface CreateOptions extends Omit<WriteRequest, "profile"> {
  /** The model (give this or `models`). */
  model?: string | ModelDescriptor;
  /** Models by language: a map (see ModelsByLanguage), or descriptors each listing its `locales`. */
  models?: ModelsByLanguage | ModelDescriptor[];
  /**
   * The site's language (default "en"): copy is written in it when the chosen
   * model cannot write the visitor's language (the result's `language` says
   * which, and a warning on `request.locale`/`profile.locale` says why), and
   * its model serves locales no entry of `models` names.
   */
  defaultLanguage?: string;
  /** The store's catalog and brand, in the fixture formats. */
  catalog: object;
  brand: object;
  /** Default profile for requests that name none. */
  profile?: ProfileSource;
  /** Called once with an EventTarget firing "downloadprogress" events. */
  monitor?: (target: EventTarget) => void;
  signal?: AbortSignal;
  /** Keep the model in the device cache (default true). */
  cache?: boolean;
}

export interface ModelInfo {
  architecture: string;
  name?: string;
  /** Whether it has a chat template (instruction-tuned); base models get few-shot documents. */
  chat: boolean;
  /** Languages it writes copy in (primary subtags, e.g. ["en", "zh", "de", "fr", "es"]). */
  languages: string[];
  context_length: number;
  url: string;
  sha256: string;
  source: "network" | "cache" | "memory";
  cache: { status: string; [key: string]: unknown };
  [key: string]: unknown;
}

export declare class Banneret {
  private constructor();
  static availability(options?: { model?: string | ModelDescriptor; models?: ModelsByLanguage | ModelDescriptor[]; locale?: string; defaultLanguage?: string }): Promise<Availability>;
  static create(options: CreateOptions): Promise<Banneret>;
  /** Removes a model from the device cache. */
  static deleteModel(model: string | ModelDescriptor): Promise<boolean>;
  /** Where worker.js lives, when a bundler or CDN moved it; before the first create(). */
  static configure(options: { workerUrl?: string | URL }): void;
  readonly model: ModelInfo | null;
  readonly warnings: { field: string; message: string }[];
  readonly destroyed: boolean;
  /** A string is a goal for the writer's default kind. */
  write(request: WriteRequest | string, options?: { signal?: AbortSignal }): Promise<WriteResult>;
  writeStreaming(request: WriteRequest | string, options?: { signal?: AbortSignal }): ReadableStream<WriteChunk> & AsyncIterable<WriteChunk>;
  rewrite(request: RewriteRequest, options?: { signal?: AbortSignal }): Promise<WriteResult>;
  rewriteStreaming(request: RewriteRequest, options?: { signal?: AbortSignal }): ReadableStream<WriteChunk> & AsyncIterable<WriteChunk>;
  /** Ideation only, no model work. */
  plan(request: WriteRequest | string): Promise<{ plan: Plan; warnings: { field: string; message: string }[] }>;
  destroy(): void;
}

/** The model of `models` (list form) that serves `locale`. */
export declare function pickModel<M extends { locales: string[] }>(models: M[], locale?: string, defaultLanguage?: string): M;

export interface BanneretSlotElement extends HTMLElement {
  readonly result: WriteResult | null;
  readonly why: string | null;
  readonly plan: Plan | null;
  /** Writes again; `keep` shows the current copy until the new one is ready. */
  refresh(options?: { keep?: boolean }): void;
}

/** Defines <banneret-slot> (or `tagName`) and returns its class. */
export declare function defineSlot(options?: {
  tagName?: string;
  writer?: Banneret | Promise<Banneret>;
  profile?: ProfileSource | ((slot: BanneretSlotElement) => Profile | null | undefined);
  registry?: CustomElementRegistry;
}): { new (): BanneretSlotElement; refreshAll(options?: { keep?: boolean }): void };

/** The on-device profile: stored in localStorage only after setConsent(true). */
export declare class ProfileCollector extends EventTarget {
  constructor(options?: { catalog?: object; storage?: Storage; key?: string; location?: Location; stripCampaignFromUrl?: boolean });
  readonly consent: boolean;
  /** Why storing failed (the profile then lives in memory), or null. */
  readonly storageError: string | null;
  setConsent(given: boolean): void;
  /** Erases everything stored. */
  forget(): void;
  recordView(sku: string): void;
  recordCart(sku: string, qty?: number): void;
  removeFromCart(sku: string): void;
  recordPurchase(sku: string): void;
  recordSearch(query: string): void;
  recordInterest(topic: string, weight?: number): void;
  captureCampaign(url?: string): void;
  import(fixture: Profile): void;
  /** Exactly what is stored on this device, or null. */
  export(): Profile | null;
  /** The profile to write for (generic without consent). */
  get(): Profile;
}

export declare function createProfile(options?: ConstructorParameters<typeof ProfileCollector>[0]): ProfileCollector;
export declare function liveContext(win?: Window): { local_time: string; device: "mobile" | "tablet" | "desktop"; color_scheme: "dark" | "light" };
export declare const STORAGE_KEY: string;
export declare const LIMITS: Readonly<{ viewed: number; cart: number; purchased: number; searches: number; text: number; sku: number }>;

export declare const ErrorName: Readonly<{
  notSupported: "NotSupportedError";
  network: "NetworkError";
  data: "DataError";
  invalidRequest: "TypeError";
  quota: "QuotaExceededError";
  invalidState: "InvalidStateError";
  operation: "OperationError";
}>;
/** Error code → name (the README's error table). Errors also carry `code`. */
export declare const ErrorCodes: Readonly<Record<string, string>>;

/** What the API rejects with (besides the signal's AbortError). */
export interface BanneretError extends Error {
  readonly code: string;
}
