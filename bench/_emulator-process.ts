/**
 * The Knock emulator (no rate limits) in a process of its own, for `npm run bench -- server --emulator-apart`:
 * the server process then measures the server alone, as with a remote Knock. Sends `{ url }`; exits on disconnect.
 */
import { startEmulator } from '@syncline/knock-emulator';

const emulator = await startEmulator({ port: 0, rateLimits: false });
process.send!({ url: emulator.url });
process.on('disconnect', () => void emulator.close().finally(() => process.exit(0)));
