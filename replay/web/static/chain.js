// The event log's hash chain (docs/eventlog.md), checked with WebCrypto.
//
//   hash(seq n) = SHA-256("playlog.event.v1" 0x00, prev_hash, game_id, seq,
//                         schema_version, recorded_at, lp(type), lp(actor),
//                         lp(message_id), lp(data))
//
// This module touches no DOM, so node (which has crypto.subtle) can run it too.

const encoder = new TextEncoder();
const DOMAIN = encoder.encode("playlog.event.v1\0"); // 17 bytes
export const ZERO_HASH = new Uint8Array(32);

// hexToBytes decodes lower- or upper-case hex; it throws on anything else.
export function hexToBytes(hex) {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`not hex: ${String(hex).slice(0, 80)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// uuidBytes is a UUID's 16 bytes in RFC 4122 order (the order it is written).
export function uuidBytes(id) {
  const hex = String(id).replace(/-/g, "");
  if (hex.length !== 32) throw new Error(`not a UUID: ${id}`);
  return hexToBytes(hex);
}

async function sha256(bytes) {
  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    // Browsers give WebCrypto to secure contexts only: https or localhost.
    throw new Error("WebCrypto is not available (the page must be served over https or from localhost)");
  }
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
}

// eventHash computes one event's hash.
//   gameID: the game's UUID string
//   prev:   the previous event's hash, 32 bytes (ZERO_HASH for seq 1)
//   e:      {seq, version, type, actor, messageID, data, recordedAtUs}, where
//           data is the exact stored JSON text and recordedAtUs the recorded
//           time in Unix microseconds (a Number or a BigInt).
// It returns the hash as lower-case hex.
export async function eventHash(gameID, prev, e) {
  if (prev.length !== 32) throw new Error("prev_hash must be 32 bytes");
  if (typeof e.recordedAtUs === "number" && !Number.isSafeInteger(e.recordedAtUs)) {
    throw new Error(`recorded_at_us ${e.recordedAtUs} is not an exact integer`);
  }
  const fields = [e.type, e.actor, e.messageID, e.data].map((s) => encoder.encode(String(s ?? "")));
  const size = DOMAIN.length + 32 + 16 + 8 + 4 + 8 + fields.reduce((n, f) => n + 4 + f.length, 0);
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  let off = 0;
  const put = (bytes) => { buf.set(bytes, off); off += bytes.length; };
  put(DOMAIN);
  put(prev);
  put(uuidBytes(gameID));
  view.setBigUint64(off, BigInt(e.seq)); off += 8; // big-endian is DataView's default
  view.setUint32(off, e.version); off += 4;
  view.setBigInt64(off, BigInt(e.recordedAtUs)); off += 8;
  for (const f of fields) {
    view.setUint32(off, f.length); off += 4;
    put(f);
  }
  return bytesToHex(await sha256(buf));
}

// checkChain checks the events a viewer was sent (as from
// GET /v1/games/{id}/replay/events, in seq order). Only events carrying
// `stored` and `hash` can be checked; hidden ones carry neither. For each
// full event it checks, where the inputs are there:
//   - its hash is what eventHash gives from its prev_hash and contents
//     (seq 1 chains from 32 zero bytes; the server sends these fields only
//     up to the first event this view does not hold in full, and an event
//     without prev_hash only anchors the next link);
//   - its prev_hash is the hash of the event before it, when that one is full.
// It returns {status, checked, unchecked, broken, results}: status is
// "verified" (at least one event checked, none broken), "not verified"
// (broken is the first bad seq, reason says why) or "not checkable";
// results maps seq to "ok", "bad" or "unchecked".
export async function checkChain(gameID, events) {
  const results = new Map();
  let checked = 0, unchecked = 0, broken = null, reason = "";
  const fail = (seq, why) => {
    results.set(seq, "bad");
    if (broken === null) { broken = seq; reason = why; }
  };
  let prev = null; // the event before this one, if it was in the list
  for (const ev of events) {
    const full = ev.stored && typeof ev.hash === "string";
    if (!full) {
      unchecked++;
      results.set(ev.seq, "unchecked");
      prev = ev;
      continue;
    }
    if (prev && prev.seq !== ev.seq - 1) fail(ev.seq, `seq ${ev.seq} follows ${prev.seq}`);
    let prevHash = null;
    if (ev.seq === 1) {
      prevHash = ZERO_HASH;
      if (ev.prev_hash !== undefined && ev.prev_hash !== bytesToHex(ZERO_HASH)) fail(ev.seq, "the first event's prev_hash is not zero");
    } else if (typeof ev.prev_hash === "string") {
      prevHash = hexToBytes(ev.prev_hash);
      if (prev && prev.seq === ev.seq - 1 && typeof prev.hash === "string" && prev.hash !== ev.prev_hash) {
        fail(ev.seq, `prev_hash of seq ${ev.seq} is not the hash of seq ${prev.seq}`);
      }
    }
    if (prevHash === null) {
      unchecked++;
      if (!results.has(ev.seq)) results.set(ev.seq, "unchecked");
    } else {
      const got = await eventHash(gameID, prevHash, {
        // The stored type and version, not the rendering's: an upcast
        // event is shown as this build reads it, hashed as it was stored.
        seq: ev.seq, version: ev.stored.schema_version, type: ev.stored.type, actor: ev.actor,
        messageID: ev.stored.message_id, data: ev.stored.data, recordedAtUs: ev.stored.recorded_at_us,
      });
      checked++;
      if (got !== ev.hash) fail(ev.seq, `the hash of seq ${ev.seq} does not match its contents`);
      else if (!results.has(ev.seq)) results.set(ev.seq, "ok");
    }
    prev = ev;
  }
  let status = "not checkable";
  if (broken !== null) status = "not verified";
  else if (checked > 0) status = "verified";
  return { status, checked, unchecked, broken, reason, results };
}

// checkSeed checks a revealed seed (hex) against the commitment made at
// creation (hex SHA-256 of the seed's bytes). It returns true or false.
export async function checkSeed(seedHex, commitmentHex) {
  const got = bytesToHex(await sha256(hexToBytes(seedHex)));
  return got === String(commitmentHex).toLowerCase();
}
