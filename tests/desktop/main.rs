//! Local stub (untracked): the real desktop tests live in the lead's tree.
