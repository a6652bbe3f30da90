// The official MeshAgent TypeScript client in a roomdeck room, driven by
// tests/sdk/test_ts_client.py. It joins from MESHAGENT_ROOM / MESHAGENT_ROOM_URL /
// MESHAGENT_TOKEN (the client sends the token as `?token=`), answers each `ping` from the
// Python participant with a `pong`, then sets, reads, lists and deletes a secret.
// Each step prints one JSON line; the Python side asserts on them.
import { createRequire } from "node:module";

// The package's ESM build re-exports through a bundler-style index Node cannot resolve; its
// Node (CommonJS) build is the one `require` picks, as a Node program would use it.
const { RoomClient } = createRequire(import.meta.url)("@meshagent/meshagent");

const say = (step, data = {}) => process.stdout.write(JSON.stringify({ step, ...data }) + "\n");
const timeout = (ms, what) =>
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms));

async function main() {
  const room = new RoomClient();
  await Promise.race([room.start(), timeout(10000, "room.start")]);
  say("joined", { name: room.localParticipant?.getAttribute?.("name") ?? null });

  // Messaging: answer the first ping with a pong to its sender.
  const pinged = new Promise((resolve) => {
    room.messaging.on("message", async (event) => {
      const msg = event.message;
      if (msg.type !== "ping") return;
      const from = room.messaging.getParticipant(msg.fromParticipantId);
      await room.messaging.sendMessage({ to: from, type: "pong", message: { echo: msg.message.n } });
      resolve(msg.message);
    });
  });
  room.messaging.enable();
  say("messaging_enabled");
  const ping = await Promise.race([pinged, timeout(15000, "a ping from python")]);
  say("ponged", { n: ping.n });

  // Secrets: set, get, exists, list, delete.
  const data = new TextEncoder().encode("s3cr3t-from-ts");
  await room.secrets.setSecret({ secretId: "ts-key", name: "ts-key", mimeType: "text/plain", data });
  const got = await room.secrets.getSecret({ secretId: "ts-key" });
  const exists = await room.secrets.exists({ secretId: "ts-key" });
  const listed = await room.secrets.listSecrets();
  say("secret", {
    value: got ? new TextDecoder().decode(got.data) : null,
    exists,
    listed: listed.map((s) => s.id),
  });
  await room.secrets.deleteSecret({ secretId: "ts-key" });
  say("secret_deleted", { exists: await room.secrets.exists({ secretId: "ts-key" }) });

  room.dispose();
  say("done");
}

main().then(
  () => process.exit(0),
  (err) => {
    say("error", { message: String(err?.stack ?? err) });
    process.exit(1);
  },
);
