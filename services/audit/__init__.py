"""The audit trail: replay to any moment, tamper evidence (Merkle tree, signed
checkpoints, proofs), offline bundles and their verifier, and review packs."""
