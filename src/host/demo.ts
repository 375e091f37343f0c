/**
 * `npm run demo`: the reference host in-process on an ephemeral loopback port, and two devices
 * of one user syncing over real HTTP through an offline edit, a conflict, a delete and a history
 * GC. It ends by comparing each device's copy with the server's snapshot; the exit code is 0 only
 * when both match its live records (payload and revision) and hold none of its deleted ones live.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { providerLayer } from "../facades/createSqliteProvider.js"
import { makeSqliteProvider } from "../facades/SqliteProvider.js"
import type { SnapshotResponse } from "../or3/types.js"
import { bearerAuthenticator, randomToken } from "./bearerAuth.js"
import { createReferenceHost } from "./createReferenceHost.js"
import { makeDemoClock } from "./demoClock.js"
import { type Device, type LocalRecord, makeDevice, recordKey } from "./demoDevice.js"
import { type HostClient, type HostResponse, makeHostClient } from "./HostClient.js"
import { listenReferenceHost } from "./listen.js"

export interface DemoResult {
  readonly converged: boolean
  /** What differs between a device and the server, one line each; empty when converged. */
  readonly mismatches: ReadonlyArray<string>
  /** Snapshot pages the returning phone needed: more than 0 when GC forgot a delete it may not have seen. */
  readonly snapshotPagesAfterGc: number
}

const SECOND = 1000
const HOUR = 3600 * SECOND

/** The server's copy: every page of a fresh snapshot. */
const serverState = async (client: HostClient, workspaceId: string): Promise<Map<string, LocalRecord>> => {
  const state = new Map<string, LocalRecord>()
  let pageToken: string | null = null
  do {
    const response: HostResponse<SnapshotResponse> = await client.post<SnapshotResponse>("/api/sync/snapshot", {
      scope: { workspaceId },
      pageSize: 100,
      ...(pageToken === null ? {} : { pageToken })
    })
    if (response.status !== 200) throw new Error(`server snapshot answered ${response.status}`)
    for (const item of response.body.items) {
      state.set(recordKey(item.tableName, item.pk), {
        tableName: item.tableName,
        pk: item.pk,
        deleted: item.kind === "tombstone",
        ...(item.kind === "row" ? { payload: item.payload as Record<string, unknown> } : {}),
        revision: item.revision
      })
    }
    pageToken = response.body.nextPageToken
  } while (pageToken !== null)
  return state
}

/** JSON with sorted keys, so equal records print equal. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, inner) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner)

const comparable = (record: LocalRecord) =>
  canonical({ deleted: record.deleted, revision: record.revision, payload: record.deleted ? null : record.payload })

/**
 * What differs between a device's copy and the server's. A deleted record and a missing one are
 * the same to a user: a device may keep a tombstone the server has forgotten (tombstone GC).
 */
const differences = (device: Device, server: ReadonlyMap<string, LocalRecord>): Array<string> => {
  const keys = new Set([...device.records.keys(), ...server.keys()])
  return [...keys].sort().flatMap((key) => {
    const mine = device.records.get(key)
    const theirs = server.get(key)
    if (theirs === undefined) return mine === undefined || mine.deleted ? [] : [`${device.name} has ${key}, the server does not`]
    if (mine === undefined) return theirs.deleted ? [] : [`${device.name} is missing ${key}`]
    return comparable(mine) === comparable(theirs) ? [] : [`${device.name} differs on ${key}`]
  })
}

const describe = (record: LocalRecord): string => {
  const text = record.deleted ? "(deleted)" : JSON.stringify(record.payload?.title ?? record.payload?.content ?? "")
  const author = record.revision.hlc.split(":").at(-1)
  return `${record.tableName.padEnd(9)} ${record.pk.padEnd(4)} ${text.padEnd(24)} clock ${record.revision.clock}, by ${author}`
}

export const runDemo = async (log: (line: string) => void = console.log): Promise<DemoResult> => {
  const clock = makeDemoClock()
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "or3-demo-"))
  const provider = await makeSqliteProvider(
    providerLayer({ path: Path.join(dir, "demo.sqlite") }).pipe(
      Layer.provide(Layer.merge(Layer.setClock(clock.clock), Logger.minimumLogLevel(LogLevel.Warning)))
    )
  )
  const token = randomToken()
  const app = createReferenceHost({
    provider,
    authenticate: bearerAuthenticator([{ token, identity: { provider: "demo", providerUserId: "alice", displayName: "Alice" } }])
  })
  const host = await listenReferenceHost(app)
  try {
    const client = makeHostClient(host.url, token)
    const session = await client.get("/api/auth/session")
    const workspaceId: string = session.body.session.workspace.id
    log(`Reference host on ${host.url}; Alice's workspace ${workspaceId}`)
    const step = (title: string) => {
      clock.advance(SECOND)
      log(`\n== ${title}`)
    }
    const laptop = makeDevice({ name: "laptop", client, workspaceId, now: clock.now })
    const phone = makeDevice({ name: "phone", client, workspaceId, now: clock.now })
    const show = (device: Device, report: object) => log(`   ${device.name} synced: ${JSON.stringify(report)}`)

    step("1. The laptop creates a thread with two messages")
    laptop.put("threads", "t1", { id: "t1", title: "Trip plan", status: "ready", deleted: false, pinned: false })
    laptop.put("messages", "m1", message("m1", 0, "Book flights"))
    laptop.put("messages", "m2", message("m2", 1, "Pack bags"))
    show(laptop, await laptop.sync())

    step("2. The phone signs in and catches up from cursor 0")
    show(phone, await phone.sync())
    await Promise.all([laptop.reportCursor(), phone.reportCursor()])

    step("3. The phone goes offline: renames the thread and adds a message, queued locally")
    phone.put("threads", "t1", { title: "Trip plan (phone)" })
    clock.advance(SECOND)
    phone.put("messages", "m3", message("m3", 2, "Buy sunscreen"))
    log(`   phone has ${phone.pending()} ops waiting`)

    step("4. Later, the laptop renames the same thread (a conflict) and deletes a message")
    laptop.put("threads", "t1", { title: "Trip plan: Lisbon" })
    laptop.remove("messages", "m2")
    show(laptop, await laptop.sync())
    await laptop.reportCursor()

    step("5. Two hours pass; the owner collects sync history with a 3600 s window")
    clock.advance(2 * HOUR)
    for (const route of ["gc-change-log", "gc-tombstones"]) {
      const gc = await client.post(`/api/sync/${route}`, { scope: { workspaceId }, retentionSeconds: 3600 })
      log(`   POST /api/sync/${route} -> ${gc.status}`)
    }
    log("   Device cursors idle for over an hour were dropped; superseded change-log entries older")
    log("   than an hour were compacted, and the delete of m2 (older than an hour, and no cursor")
    log("   left behind it) was forgotten.")

    step("6. The phone comes back online")
    const phoneReport = await phone.sync()
    show(phone, phoneReport)
    log(`   its thread rename lost to the laptop's newer one (${phoneReport.lost} lost), its message was applied;`)
    log(`   it may still hold m2, whose delete was forgotten, so it rebuilt from a snapshot (${phoneReport.snapshotPages} pages)`)

    step("7. The laptop syncs again and picks up the phone's message")
    show(laptop, await laptop.sync())

    const server = await serverState(client, workspaceId)
    log("\n== Converged state (server snapshot)")
    for (const record of [...server.values()]) log(`   ${describe(record)}`)
    const mismatches = [...differences(laptop, server), ...differences(phone, server)]
    for (const line of mismatches) log(`   MISMATCH: ${line}`)
    log(mismatches.length === 0 ? "\nBoth devices match the server." : "\nThe devices do NOT match the server.")
    return { converged: mismatches.length === 0, mismatches, snapshotPagesAfterGc: phoneReport.snapshotPages }
  } finally {
    await host.close()
    await provider.dispose()
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

const message = (id: string, index: number, content: string) => ({
  id,
  thread_id: "t1",
  role: "user",
  index,
  order_key: String(index).padStart(6, "0"),
  content,
  deleted: false
})

/** The demo as a program: 0 when both devices converged on the server's state, else 1. */
export const main = async (log: (line: string) => void = console.log): Promise<number> => {
  try {
    return (await runDemo(log)).converged ? 0 : 1
  } catch (error) {
    console.error("The demo failed:", error)
    return 1
  }
}
