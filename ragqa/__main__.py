import sys

from ragqa.cli import main

sys.exit(main())
