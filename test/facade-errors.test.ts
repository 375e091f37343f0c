import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, it } from "@effect/vitest"
import { Cause, FiberId } from "effect"
import { createError, isError } from "h3"
import {
  causeToH3Error,
  INTERNAL_ERROR_MESSAGE,
  isClientError,
  isServerFault,
  toH3Error
} from "../src/facades/H3Errors.js"
import {
  ConfigInvalid,
  CursorRegressed,
  Forbidden,
  InvalidInput,
  LastWorkspaceOwner,
  MigrationFailed,
  NotFound,
  SnapshotExpired,
  Unauthenticated
} from "../src/schema/errors.js"

describe("toH3Error", () => {
  const cases = [
    {
      error: new InvalidInput({ field: "scope.workspaceId", reason: "is required" }),
      status: 400,
      data: { code: "InvalidInput", field: "scope.workspaceId", reason: "is required" }
    },
    {
      error: new Unauthenticated({ action: "update a device cursor" }),
      status: 401,
      data: { code: "Unauthenticated", action: "update a device cursor" }
    },
    {
      error: new Forbidden({ userId: "u1", workspaceId: "w2", action: "sync.pull", reason: "not a member" }),
      status: 403,
      data: { code: "Forbidden", userId: "u1", workspaceId: "w2", action: "sync.pull", reason: "not a member" }
    },
    {
      error: new NotFound({ entity: "Workspace", id: "w9" }),
      status: 404,
      data: { code: "NotFound", entity: "Workspace", id: "w9" }
    },
    {
      error: new CursorRegressed({ deviceId: "d1", current: 7, requested: 3 }),
      status: 409,
      data: { code: "CursorRegressed", deviceId: "d1", current: 7, requested: 3 }
    },
    {
      error: new LastWorkspaceOwner({ workspaceId: "w1", userId: "u1", change: "remove" }),
      status: 409,
      data: { code: "LastWorkspaceOwner", workspaceId: "w1", userId: "u1", change: "remove" }
    },
    {
      error: new SnapshotExpired({ snapshotId: "s1" }),
      status: 410,
      data: { code: "SnapshotExpired", snapshotId: "s1" }
    }
  ] as const

  for (const { data, error, status } of cases) {
    it(`${error._tag} -> ${status} with its message and fields`, () => {
      assert.isTrue(isClientError(error))
      const h3 = toH3Error(error)
      assert.isTrue(isError(h3))
      assert.strictEqual(h3.statusCode, status)
      assert.strictEqual(h3.statusCode, error.status)
      assert.strictEqual(h3.message, error.message)
      assert.strictEqual(h3.statusMessage, error.message)
      assert.deepStrictEqual(h3.data, data)
      // What the host serializes to the client.
      assert.deepStrictEqual(h3.toJSON(), { message: error.message, statusCode: status, statusMessage: error.message, data })
    })
  }

  it("an input error on a secret field does not echo the value", () => {
    const error = new InvalidInput({ field: "input.tokenHash", reason: 'Expected at most 256 characters, actual "s3cr3t..."' })
    const h3 = toH3Error(error)
    assert.strictEqual(h3.statusCode, 400)
    assert.strictEqual(h3.message, "Invalid input.tokenHash")
    assert.deepStrictEqual(h3.data, { code: "InvalidInput", field: "input.tokenHash" })
    assert.notInclude(JSON.stringify(h3.toJSON()), "s3cr3t")
  })

  it("an h3 error passes through unchanged", () => {
    const original = createError({ statusCode: 418, statusMessage: "teapot" })
    assert.strictEqual(toH3Error(original), original)
  })

  it("SQL errors, defects, start-up errors and plain values become a generic 500", () => {
    const secret = "SQLITE_ERROR: no such column: secret_column in SELECT * FROM users"
    const others: Array<unknown> = [
      new SqlError({ cause: new Error(secret), message: secret }),
      new Error(secret),
      new ConfigInvalid({ variable: "OR3_SQLITE_DB_PATH", reason: secret }),
      new MigrationFailed({ migration: "0002_x", cause: new Error(secret) }),
      secret,
      undefined
    ]
    for (const error of others) {
      assert.isFalse(isClientError(error))
      const h3 = toH3Error(error)
      assert.strictEqual(h3.statusCode, 500)
      assert.strictEqual(h3.message, INTERNAL_ERROR_MESSAGE)
      assert.strictEqual(h3.statusMessage, INTERNAL_ERROR_MESSAGE)
      assert.isUndefined(h3.data)
      assert.notInclude(JSON.stringify(h3.toJSON()), "secret_column")
    }
  })
})

describe("causeToH3Error", () => {
  it("maps the typed failure of a cause", () => {
    const cause = Cause.fail(new NotFound({ entity: "Invite", id: "i1" }))
    assert.strictEqual(causeToH3Error(cause).statusCode, 404)
    assert.isFalse(isServerFault(cause))
  })

  it("defects and interruptions are 500s and server faults", () => {
    for (const cause of [Cause.die(new Error("SQLITE_BUSY")), Cause.interrupt(FiberId.none), Cause.empty]) {
      const h3 = causeToH3Error(cause)
      assert.strictEqual(h3.statusCode, 500)
      assert.strictEqual(h3.message, INTERNAL_ERROR_MESSAGE)
      assert.isTrue(isServerFault(cause))
    }
  })

  it("a typed SQL failure is a server fault", () => {
    const cause = Cause.fail(new SqlError({ cause: new Error("x"), message: "x" }))
    assert.isTrue(isServerFault(cause))
    assert.strictEqual(causeToH3Error(cause).statusCode, 500)
  })
})
