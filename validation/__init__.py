"""Known-truth validation of the evidence scorecard: worlds with a known mechanism, their truth, a runner.

`validation.worlds` writes study folders from worlds whose causal structure is known (numpy, pandas and
PyYAML only: nothing of moclab, so the generator and the code under test cannot share a mistake),
`validation.truth` says which criterion's claim is true in which world, from the structure and from
population quantities of a very large sample, and `validation.run` analyses many replications with
`moclab.evidence.analyze` and tabulates how often each verdict was reached.
"""
