"""The write path: files -> documents -> chunks -> vectors -> the index (whose format ragqa/index owns)."""
