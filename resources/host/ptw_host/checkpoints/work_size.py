"""How much of a tensor one unit of the diff's work covers. Module attributes, read at each use: the diff's hidden
flags (--task-bytes, --chunk-elements) make them small in the tests, so one small tensor spans several units."""

# Elements decoded at once: three lists of Python floats of this length live at a time (~100 MB).
CHUNK_ELEMENTS = 1 << 20
# Bytes of one unit of work handed to a process.
TASK_BYTES = 64 * 1024 * 1024
