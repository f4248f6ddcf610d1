/**
 * The composition root: builds TimeWise Chat from its parts. `main.ts` gives it the real parts;
 * tests give it temporary ones. Nothing here reads the environment.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { Agent } from "node:https";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { createAuthenticator } from "./auth/handshake.js";
import { createLoginService, type LoginLimits } from "./auth/login.js";
import { createPhpSessions } from "./auth/php-session/index.js";
import { createTokenService, type TokenService } from "./auth/tokens.js";
import type { ChatDeps } from "./chat/context.js";
import { FileBytes } from "./chat/files/bytes.js";
import { fileCleanupJob } from "./chat/files/cleanup.js";
import { FileService } from "./chat/files/service.js";
import { scheduledAvailability } from "./chat/hours/service.js";
import { notifyUrgent } from "./chat/hours/urgent.js";
import { MessageService } from "./chat/messages/service.js";
import { type DueListener, digestJob } from "./chat/notifications/digests.js";
import { smtpMailer } from "./chat/notifications/mailer.js";
import { PrefsService } from "./chat/prefs/service.js";
import { RedisVisibility } from "./chat/presence/redis-visibility.js";
import { PresenceService } from "./chat/presence/service.js";
import { MemoryPresence } from "./chat/presence/tracker.js";
import { MemoryVisibility } from "./chat/presence/visibility.js";
import { VisibilityService } from "./chat/presence/visibility-service.js";
import { ReadService } from "./chat/reads/service.js";
import { RecordService } from "./chat/records/service.js";
import { retentionJob } from "./chat/retention/service.js";
import { RoomService } from "./chat/rooms/service.js";
import { RoomSyncService } from "./chat/rooms/sync.js";
import { Scopes } from "./chat/scopes.js";
import { TypingService, type TypingTimers } from "./chat/typing/service.js";
import { UserService } from "./chat/users/service.js";
import { AnnouncingFanout } from "./cluster/announcing-fanout.js";
import { FeedFanout } from "./cluster/feed-fanout.js";
import { JobScheduler, type JobTimers, localClaims } from "./cluster/jobs/index.js";
import type { Config } from "./config/index.js";
import { createFileStore } from "./files/create-store.js";
import { DEFAULT_IMAGE_LIMITS, type ImageLimits, ImageProcessor } from "./files/images.js";
import { FILE_LINK_SECRET_NAME, FileLinks } from "./files/links.js";
import type { FileStore } from "./files/store.js";
import { ClientAddresses } from "./http/client-address.js";
import { createDownloads } from "./http/file-download.js";
import { guardHandshakes } from "./http/handshake-origins.js";
import { OriginPolicy } from "./http/origins.js";
import { createRequestHandler, type ReadyProbe } from "./http/routes.js";
import { createServerApi, SERVER_API_PREFIX } from "./http/server-api.js";
import { createWebAssets } from "./http/static.js";
import { type AddressLimits, createAddressLimits, DEFAULT_ADDRESS_LIMITS } from "./limits/address-limits.js";
import type { Logger } from "./logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { PushNotifier } from "./push/notifier.js";
import { PushSender, type PushTimers } from "./push/sender.js";
import { PushSubscriptionService } from "./push/subscriptions.js";
import { vapidKeys } from "./push/vapid.js";
import { acceptConnections } from "./realtime/connections.js";
import { chatHandlers } from "./realtime/events.js";
import { Fanout } from "./realtime/fanout.js";
import { EventLimits } from "./realtime/limits.js";
import { startRecheck } from "./realtime/recheck.js";
import type { ChatServer } from "./realtime/types.js";
import { Listeners } from "./shared/listeners.js";
import { type AsyncChatStore, asAsyncChatStore } from "./storage/async-chat-store.js";
import type { PostgresChatStore } from "./storage/postgres/postgres-chat-store.js";
import type { SqliteDatabase } from "./storage/sqlite/open.js";
import { JWT_SECRET_NAME } from "./storage/sqlite/server-secrets.js";
import { SqliteChatStore } from "./storage/sqlite/sqlite-chat-store.js";
import { CachedDirectory } from "./users/cached-directory.js";
import type { UserDirectory } from "./users/types.js";
import { connectWebhooks, WebhookSender } from "./webhooks/index.js";

/**
 * AUTH_JWT_SECRET, or else this installation's own random secret from the chat database (made on
 * the first start). The log says how to share it; it never shows the secret itself.
 */
async function tokenSecret(config: Config, store: AsyncChatStore, logger: Logger): Promise<Uint8Array> {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  logger.warn(
    "AUTH_JWT_SECRET is not set: tokens use a random secret made for this installation and kept in the chat database. To let the PHP app make tokens, run `npm run secret` on this machine and set the secret it prints as AUTH_JWT_SECRET on both sides.",
  );
  return new TextEncoder().encode(await store.serverSecret(JWT_SECRET_NAME));
}

/** The origin of a URL, for logs that must not show the rest of it. */
function originOf(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : "?";
}

/**
 * Where the chat data lives. SQLite: the server builds its store on the open file, with the parts
 * only a store with an in-memory mirror needs (re-reading rooms other nodes changed). PostgreSQL:
 * an opened store, whose every read asks the shared database, so there is nothing to re-read.
 */
export type ChatDatabase =
  | { kind: "sqlite"; db: SqliteDatabase }
  | { kind: "postgres"; store: PostgresChatStore };

/** The store the services use, and the store itself for the parts only its kind has. */
function openChatStore(
  chat: ChatDatabase,
  metrics: Metrics,
  logger: Logger,
): { store: AsyncChatStore; sqlite: SqliteChatStore | null; postgres: PostgresChatStore | null } {
  if (chat.kind === "postgres") {
    // each write statement or transaction is timed on its own (a grouped send counts as one)
    chat.store.onWriteTimed((seconds) => {
      metrics.storeWrite.observe(seconds);
      metrics.storeBatch.observe(1);
    });
    return { store: chat.store, sqlite: null, postgres: chat.store };
  }
  const sqlite = new SqliteChatStore(chat.db, {
    onCommit: (writes, seconds) => {
      metrics.storeWrite.observe(seconds);
      metrics.storeBatch.observe(writes);
    },
    onBackgroundProblem: (problem) => logger.error({ problem }, "chat database background work failed"),
  });
  return { store: asAsyncChatStore(sqlite), sqlite, postgres: null };
}

/**
 * What `/ready` pings besides the directory. On PostgreSQL the chat store is `database`, and Redis
 * is checked too: every broadcast between nodes goes through it (PROTOCOL v2.1). `files` is the
 * file store everywhere: the disk folder writable, or the S3 bucket answering HeadBucket.
 */
function readyProbes(
  store: AsyncChatStore,
  postgres: boolean,
  cluster: { redis: { ping(): Promise<unknown> } } | null,
  fileStore: FileStore,
): ReadyProbe[] {
  const files: ReadyProbe = { name: "files", ping: () => fileStore.ping() };
  if (!postgres) return [{ name: "sqlite", ping: () => store.ping() }, files];
  const probes: ReadyProbe[] = [{ name: "database", ping: () => store.ping() }];
  if (cluster) probes.push({ name: "redis", ping: () => cluster.redis.ping() });
  probes.push(files);
  return probes;
}

export interface AppDeps {
  config: Config;
  logger: Logger;
  chat: ChatDatabase;
  directory: UserDirectory;
  /** Tuning that is not a setting: tests use small limits here. */
  options?: AppOptions;
}

/** What tests may change beyond the settings; production uses the defaults. */
export interface AppOptions {
  /** sign-in allowances (default DEFAULT_LOGIN_LIMITS) */
  loginLimits?: LoginLimits;
  /** caps per client address on unauthenticated traffic (default DEFAULT_ADDRESS_LIMITS) */
  addressLimits?: Partial<AddressLimits>;
  /** the clock in milliseconds, for token times, the re-check and rate-limit windows (default Date.now) */
  now?: () => number;
  /** how long a typing indicator lasts without a fresh `typing: true` (default LIMITS.typingTimeoutMs) */
  typingTimeoutMs?: number;
  /** the timers of the automatic typing stop (default Node's); tests fire them by hand */
  typingTimers?: TypingTimers;
  /** the HTTP server's timeouts (default HTTP_TIMEOUTS); Node runs them on its own timers, so tests make them short */
  httpTimeouts?: Partial<HttpTimeouts>;
  /** how many images are read at once and may wait (default DEFAULT_IMAGE_LIMITS) */
  imageLimits?: Partial<ImageLimits>;
  /** the ticks of the background jobs (default real intervals); tests move them on by hand */
  jobTimers?: JobTimers;
  /** (v2.3) Web Push delivery: tests trust their loopback push service and time its retries */
  push?: { agent?: Agent; retryDelaysMs?: readonly number[]; timers?: PushTimers };
}

/** How long the HTTP server waits for slow or stalled clients, in ms. */
export interface HttpTimeouts {
  /** all of a request's headers must arrive within this */
  headersMs: number;
  /** the whole request must arrive within this */
  requestMs: number;
  /** how often Node checks the two above on open connections */
  checkEveryMs: number;
}

// Node enforces the two timeouts only when it sweeps connections (every 30 s by default), so a
// slow-headers client could hold a connection for up to 40 s; a 1 s sweep keeps them near 10 s
export const HTTP_TIMEOUTS: Readonly<HttpTimeouts> = {
  headersMs: 10_000,
  requestMs: 30_000,
  checkEveryMs: 1_000,
};

export interface App {
  httpServer: HttpServer;
  io: ChatServer;
  tokens: TokenService;
  store: AsyncChatStore;
  metrics: Metrics;
  /**
   * (v2.3) Hears of every stored mention: all of a new message's, and the ones an edit adds (an
   * edit that removes one takes nothing back). Where notifications (digests, push) hook in.
   */
  onMentioned: MessageService["onMentioned"];
  /**
   * (v2.3) Hears, when the digest job runs, of each user's notifying messages that stayed unread
   * past their delay: where the `notification` webhook hangs, and other channels can.
   */
  onNotificationDue: Listeners<Parameters<DueListener>>;
  /** (v2.3) Resolves when every Web Push decided and sent so far is done (tests). */
  pushSettled(): Promise<void>;
  /** Runs the re-check of live connections now (tokens, users, scopes, PHP sessions). */
  recheckNow(): Promise<void>;
  listen(): Promise<AddressInfo>;
  /** Stops accepting, commits in-flight writes, closes the databases. */
  close(): Promise<void>;
}

/** Async only to load the drivers of what is configured (Redis, MySQL sessions), never the others. */
export async function createApp({
  config,
  logger,
  chat,
  directory: rawDirectory,
  options = {},
}: AppDeps): Promise<App> {
  const metrics = createMetrics();
  const { store, sqlite, postgres } = openChatStore(chat, metrics, logger);
  const clock = options.now ?? Date.now;
  const directory = new CachedDirectory(rawDirectory, { now: clock });
  const tokens = createTokenService(
    { ...config.auth, jwtSecret: await tokenSecret(config, store, logger) },
    clock,
  );
  // download links: signed with a secret every node reads from the chat database
  const links = new FileLinks(await store.serverSecret(FILE_LINK_SECRET_NAME), config.files.urlTtlS, clock);
  const origins = new OriginPolicy(config.corsOrigins);
  const clientAddresses = new ClientAddresses(config.trustProxy);
  let accepting = true;

  // slow or stalled clients must not hold connections open forever
  const timeouts = { ...HTTP_TIMEOUTS, ...options.httpTimeouts };
  const httpServer = createServer({ connectionsCheckingInterval: timeouts.checkEveryMs });
  httpServer.headersTimeout = timeouts.headersMs;
  httpServer.requestTimeout = timeouts.requestMs;
  const io: ChatServer = new Server(httpServer, {
    path: "/socket.io",
    maxHttpBufferSize: config.maxPayloadBytes,
    allowRequest: guardHandshakes(httpServer, origins, logger, "/socket.io"),
    cors: {
      origin: (origin, callback) => callback(null, origin !== undefined && origins.allows(origin, undefined)),
      credentials: true,
    },
  });

  // several nodes (REDIS_URL): broadcasts, presence and room changes go through Redis
  const cluster = config.redisUrl
    ? (await import("./cluster/index.js")).joinCluster(io, config.redisUrl, config.redisPrefix, logger)
    : null;
  const scopes = new Scopes(config.users.scopeColumn !== null, directory);
  // PostgreSQL: every node passes on each commit of the shared database to its own sockets, in
  // commit order (feed-fanout.ts), with or without other nodes. SQLite nodes keep a mirror, so each
  // tells the others which rooms it changed, and broadcasts go through the Redis adapter
  const feed = postgres ? new FeedFanout(io, { store: postgres, scopes, links, logger }) : null;
  // a message with files goes to each member with their own links: the mirror knows who they are
  const members = (roomId: string) => sqlite?.room(roomId)?.members.keys() ?? [];
  const fanout =
    feed ??
    (cluster && sqlite ? new AnnouncingFanout(io, cluster, links, members) : new Fanout(io, links, members));
  await feed?.start();
  // rate limits are counted across nodes too, so more nodes never mean a bigger allowance
  const sharedCounts = cluster ? { redis: cluster.redis, prefix: config.redisPrefix } : undefined;
  const limits = new EventLimits(config.rateLimits, sharedCounts, clock);
  const perAddress = createAddressLimits(
    { ...DEFAULT_ADDRESS_LIMITS, ...options.addressLimits },
    sharedCounts,
    clock,
  );
  if (sqlite) {
    cluster?.onRoomsChanged((roomIds) => {
      sqlite
        .reloadRooms(roomIds)
        .catch((err: unknown) => logger.warn({ err }, "could not re-read changed rooms"));
    });
  }
  const deps: ChatDeps = {
    config,
    store,
    directory,
    fanout,
    scopes,
    links,
    now: () => new Date(clock()).toISOString(),
    // (v2.4) working hours and quiet hours hold email, push and the notification webhook
    availability: scheduledAvailability(store),
    listenerError: (err, hook) => logger.error({ err, hook }, "a chat service listener failed"),
  };
  // uploads: the bytes in FILES_STORE, the records in the chat store
  const fileStore = await createFileStore(config.files.store);
  const fileProblem = (err: unknown) => logger.error({ err }, "the file store failed");
  const fileBytes = new FileBytes(store, fileStore, {
    removed: (reason, count) => metrics.filesRemoved.inc({ reason }, count),
    problem: fileProblem,
  });
  const messages = new MessageService(deps, fileBytes);
  const files = new FileService(
    deps,
    fileStore,
    config.files,
    fileProblem,
    fileBytes,
    // an unreadable image is a normal upload (cut off, or hostile), so it is only noted
    new ImageProcessor({ ...DEFAULT_IMAGE_LIMITS, ...options.imageLimits }, (type, err) =>
      logger.info({ type, reason: String(err) }, "an image could not be read; it is kept as a plain file"),
    ),
  );
  // background jobs, once per turn across the nodes: PostgreSQL's advisory locks decide which
  // node runs each (SQLite has one node, which runs them all)
  const jobProblem = (message: string) => {
    metrics.backgroundJobProblems.inc();
    logger.warn(message);
  };
  const jobs = new JobScheduler(postgres ? postgres.jobLocks(jobProblem) : localClaims(), {
    timers: options.jobTimers,
    onProblem: jobProblem,
  });
  jobs.add(fileCleanupJob({ store, bytes: fileBytes, now: clock }));
  jobs.add(
    retentionJob({
      store,
      bytes: fileBytes,
      fanout,
      defaultDays: config.retentionDays,
      now: clock,
      expired: (count) => metrics.messagesExpired.inc(count),
    }),
  );
  messages.onSent.add(() => metrics.messagesSent.inc());
  const rooms = new RoomService(deps);
  const typing = new TypingService(deps, options.typingTimeoutMs, options.typingTimers);
  const presence = new PresenceService(deps, cluster?.presence ?? new MemoryPresence());
  // Web Push: signed with the configured VAPID pair or the one kept in the chat database, sent
  // only to users with no visible tab on any node (Redis knows them when there are several)
  const visibilityTracker = cluster
    ? new RedisVisibility(cluster.redis, config.redisPrefix, { now: clock })
    : new MemoryVisibility();
  const visibility = new VisibilityService(visibilityTracker, (err) =>
    logger.warn({ err }, "could not record that a tab closed"),
  );
  const vapid = await vapidKeys(config.push.keys, (name) => store.serverSecret(name));
  const pushSender = new PushSender({
    vapid,
    subject: config.push.subject,
    gone: (endpoint) => store.forgetPushSubscription(endpoint),
    // an endpoint is a capability URL: only its push service is logged
    problem: (message, endpoint) => logger.warn({ pushService: originOf(endpoint) }, message),
    outcome: (outcome) => metrics.pushes.inc({ outcome }),
    ...options.push,
  });
  const pushNotifier = new PushNotifier({
    store,
    directory,
    visibility,
    availability: deps.availability,
    sender: pushSender,
    now: clock,
    publicUrl: config.digests?.publicUrl ?? "",
    problem: (err) => logger.error({ err }, "could not send Web Push notifications"),
  });
  messages.onSent.add((message) => pushNotifier.messageSent(message));
  messages.onMentioned.add((message, mentioned) => pushNotifier.mentionsAdded(message, mentioned));
  const pushSubscriptions = new PushSubscriptionService(store, vapid.publicKey, deps.now);
  // PHP integration: the session cookie, the server API and webhooks (each off unless configured)
  const sessions = config.phpSession
    ? await createPhpSessions(config.phpSession, config.mysql, logger)
    : null;
  const authenticator = createAuthenticator({
    tokens,
    directory,
    logger,
    metrics,
    sessions,
    origins,
    revocations: store,
    unknownSessions: { addresses: clientAddresses, count: perAddress.unknownSessions },
  });
  const webhooks = config.webhooks ? new WebhookSender(config.webhooks, logger, {}, metrics.registry) : null;
  if (webhooks) connectWebhooks(webhooks, { messages, rooms, presence }, links);
  const roomSync = new RoomSyncService(deps, rooms);
  const records = new RecordService(deps, rooms, roomSync);
  // notifications for people who are away: email digests and the `notification` webhook, from one job
  const onNotificationDue = new Listeners<Parameters<DueListener>>((err) =>
    logger.error({ err }, "a notification listener failed"),
  );
  if (webhooks) {
    onNotificationDue.add((userId, due) =>
      webhooks.send("notification", {
        userId,
        messages: due.map((m) => ({
          id: m.messageId,
          roomId: m.roomId,
          senderId: m.senderId,
          body: m.body,
          createdAt: m.createdAt,
          mentioned: m.mentionsAll || m.mentions.includes(userId),
        })),
      }),
    );
  }
  const mailer = config.digests ? smtpMailer(config.digests.smtpUrl, config.digests.from) : null;
  if (!mailer) logger.info("SMTP_URL is not set: email digests are off");
  // (v2.4) urgent messages notify at once, past working hours, quiet hours and the email delay
  messages.onUrgent.add((message) => {
    notifyUrgent(
      {
        store,
        directory,
        send: mailer?.send ?? null,
        publicUrl: config.digests?.publicUrl ?? "",
        onDue: onNotificationDue,
        problem: (err, userId) => logger.warn({ err, userId }, "an urgent message's mail failed"),
      },
      message,
    ).catch((err: unknown) => logger.error({ err }, "an urgent message's notifications failed"));
  });
  // what was held from someone off work is pushed to them, summed up, when they are back
  onNotificationDue.add((userId, due) => pushNotifier.due(userId, due));
  jobs.add(
    digestJob({
      store,
      directory,
      send: mailer?.send ?? null,
      publicUrl: config.digests?.publicUrl ?? "",
      now: clock,
      onDue: onNotificationDue,
      availability: deps.availability,
    }),
  );
  const serverApi = createServerApi({
    config,
    tokens,
    directory,
    store,
    messages,
    files,
    maxUploadBytes: config.files.maxBytes,
    roomSync,
    records,
    fanout,
    links,
    logger,
    shared: sharedCounts,
    clientAddresses,
    fileBytes,
    fileStore,
    availability: deps.availability,
    now: clock,
  });
  const services = {
    rooms,
    records,
    messages,
    reads: new ReadService(deps),
    typing,
    presence,
    visibility,
    users: new UserService(deps),
    prefs: new PrefsService(deps),
    sessions: { tokens, revocations: store },
  };

  acceptConnections({
    io,
    authenticator,
    store,
    presence,
    typing,
    handlers: chatHandlers(services),
    runtime: { limits, logger, metrics, accepting: () => accepting },
    logger,
    metrics,
    maxSocketsPerUser: config.maxSocketsPerUser,
    refusedHandshakes: { addresses: clientAddresses, count: perAddress.refusedHandshakes },
    onConnected: (socket) => recheck.watchExpiry(socket),
    maxQueuedBytes: config.maxQueuedBytes,
    scoped: scopes.enabled,
  });
  const recheck = startRecheck({
    io,
    directory,
    revocations: store,
    logger,
    intervalS: config.auth.recheckS,
    now: clock,
    sessions,
  });
  const login = createLoginService({
    directory,
    tokens,
    logger,
    shared: sharedCounts,
    limits: options.loginLimits,
    now: clock,
  });
  const handle = createRequestHandler({
    origins,
    clientAddresses,
    readyLimit: perAddress.ready,
    authenticator,
    login,
    rooms,
    messages,
    files,
    push: pushSubscriptions,
    maxUploadBytes: config.files.maxBytes,
    limits,
    readyChecks: readyProbes(store, sqlite === null, cluster, fileStore),
    directory,
    metrics,
    logger,
  });
  const downloads = createDownloads({ store, files: fileStore, links, limits, logger, now: clock });
  const web = createWebAssets({ frameAncestors: config.corsOrigins });
  httpServer.on("request", (req, res) => {
    if (req.url?.startsWith("/socket.io/")) return; // Engine.IO answers these
    if (req.url?.startsWith(SERVER_API_PREFIX)) return void serverApi(req, res);
    if (web.serve(req, res)) return; // the web app: /, /embed.js, /assets/*
    // before the JSON routes: a download link needs no CORS and no sign-in (an <img src>)
    if (downloads.serve(req, res)) return;
    void handle(req, res);
  });

  let closing: Promise<void> | null = null;
  return {
    httpServer,
    io,
    tokens,
    store,
    metrics,
    onMentioned: messages.onMentioned,
    onNotificationDue,
    pushSettled: async () => {
      await pushNotifier.settled();
      await pushSender.settled();
    },
    recheckNow: () => recheck.runNow(),
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => resolve(httpServer.address() as AddressInfo));
      }),
    close: () => {
      closing ??= (async () => {
        accepting = false;
        recheck.stop();
        typing.close();
        // a clean-up under way finishes before the stores close; its locks go with it
        await jobs.close();
        // writes already queued are committed and acknowledged before the sockets close
        await store.flush();
        await new Promise((resolve) => setImmediate(resolve));
        // stop listening first: an event heard later would go to sockets that are closing
        await feed?.stop();
        await new Promise<void>((resolve) => io.close(() => resolve()));
        // closing the sockets set everyone offline: those updates still need Redis and the store
        await presence.settled();
        // push decisions under way read the store; deliveries waiting to retry are dropped
        await pushNotifier.settled();
        await visibilityTracker.close();
        await cluster?.close();
        await webhooks?.close();
        mailer?.close();
        await store.close();
        await fileStore.close();
        await directory.close();
        metrics.close();
        await sessions?.close();
      })();
      return closing;
    },
  };
}
