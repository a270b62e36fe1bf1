/** The in-process broker: the shared contract on one node (there is no other). */
import { MemoryBroker } from '../../src/broker/memory.js';
import { Recorder } from '../broker-helpers.js';
import { brokerContract } from './broker.contract.js';

brokerContract('memory', { multiNode: false }, async () => {
  let made: MemoryBroker | null = null;
  return {
    async node() {
      if (made !== null) throw new Error('the memory broker has one node');
      const broker = (made = new MemoryBroker());
      const got = new Recorder();
      await broker.start(got.deliver);
      return { broker, got };
    },
    targetTopics: async () => null,
    cleanup: async () => made?.close(),
  };
});
