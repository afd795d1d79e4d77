//! (owned by the engine compute helper; placeholder until it lands)
