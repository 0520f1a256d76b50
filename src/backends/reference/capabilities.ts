// What the reference backend (the oracle) runs: every registered family, through its spec, in float64.
import { architectureNames, findArchitecture } from '../../model/architectures/registry.js';
import type { BackendCapabilities } from '../backend.js';
import { capabilitiesFrom, type FamilySupport } from '../capabilities.js';

const REFERENCE_FAMILIES: Readonly<Record<string, FamilySupport>> = Object.fromEntries(
  architectureNames().map((name) => [name, { pagedKv: findArchitecture(name)!.kvBytesPerToken !== null }]),
);

export const capabilities: BackendCapabilities = capabilitiesFrom({
  name: 'reference',
  families: REFERENCE_FAMILIES,
  // The oracle computes in float64 from whatever the checkpoint holds; a lower precision would defeat it.
  dtypes: ['float32'],
  dtypesNote: 'float32 (it computes in float64)',
});
