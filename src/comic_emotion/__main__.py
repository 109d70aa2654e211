"""``python -m comic_emotion`` runs the CLI."""

import sys

from comic_emotion.cli.main import main

sys.exit(main())
