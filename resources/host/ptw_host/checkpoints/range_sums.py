"""What comparing one byte range of a tensor adds up, chunk by chunk, whichever engine reads it."""

import math


class RangeSums:
    """Σa², Σb², Σ(a-b)² as partial sums (added with math.fsum at the end), max |a-b|, the elements that differ,
    and the identical chunks of the range (offset, length): they count towards Σa² and Σb² only if another chunk
    changed, so they are read again then."""

    def __init__(self):
        self.same = True
        self.a2 = []
        self.b2 = []
        self.d2 = []
        self.max_abs = 0.0
        self.changed = 0
        self.skipped = []

    def add_identical(self, norm2):
        """An identical chunk of a changed range: its Σx² counts for A and for B."""
        self.a2.append(norm2)
        self.b2.append(norm2)

    def result(self, mode):
        """(same, a2, b2, d2, max_abs, changed); mode `norm` (only Σa² asked for) reports the range as the same."""
        if mode == "norm":
            total = math.fsum(self.a2)
            return True, total, total, 0.0, 0.0, 0
        return self.same, math.fsum(self.a2), math.fsum(self.b2), math.fsum(self.d2), self.max_abs, self.changed
