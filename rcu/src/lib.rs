//! Userspace RCU.
