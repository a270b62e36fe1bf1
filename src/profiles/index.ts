import type { WireProtocol } from '../config.js';
import { jacCloudProfile } from './jac-cloud.js';
import { nativeProfile } from './native.js';
import type { WireProfile } from './profile.js';

export type { WireProfile } from './profile.js';

export const profiles: Readonly<Record<WireProtocol, WireProfile>> = { native: nativeProfile, 'jac-cloud': jacCloudProfile };
