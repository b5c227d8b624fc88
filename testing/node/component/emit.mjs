// Publishes one event through @socket.io/redis-emitter 5.1, as a Node worker
// of a reference deployment would, then exits.
// usage: node emit.mjs <redisUrl> <key> <room> <event> <json data>
import { Emitter } from '@socket.io/redis-emitter';
import { Redis } from 'ioredis';

const [redisUrl, key, room, event, json] = process.argv.slice(2);
if (!json) {
  console.error('usage: node emit.mjs <redisUrl> <key> <room> <event> <json data>');
  process.exit(2);
}
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
redis.on('error', err => {
  console.error(`redis: ${err.message}`);
  process.exit(1);
});
redis.on('ready', async () => {
  new Emitter(redis, { key }).to(room).emit(event, JSON.parse(json));
  await redis.quit();
  process.exit(0);
});
