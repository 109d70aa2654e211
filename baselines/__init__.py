"""CPU reference models, registered with lmms-eval as model plugins (see :mod:`.registry`)."""
