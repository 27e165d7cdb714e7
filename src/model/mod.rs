//! The appliance's common words, below every other room: who a radio saw ([`device`]), how a
//! push ended ([`outcome`]) and what time it is as the log records it ([`clock`]). The radios,
//! the policy, the engine, the store, sync and the reports all speak them, so they depend on
//! none of those.

pub mod clock;
pub mod device;
pub mod outcome;
