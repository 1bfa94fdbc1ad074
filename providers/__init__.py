"""The systems netsot talks to: one package per kind, registered in ``providers.registry``."""

import warnings

# asyncssh (the simulated router's SSH server, the lab's key generation) names cryptography's DSA
# classes when it is imported, and cryptography warns "DSA is deprecated" on each such reference,
# whatever key is used (netsot's and the lab's keys are ed25519 and ECDSA). Only that warning, and only
# from asyncssh's modules, is silenced: it is noise in the demo and the tests, not something to act on.
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"asyncssh(\.|$)")
