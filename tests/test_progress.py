"""Tests of minibigram.progress."""




def test_progress_line_is_redrawn_in_place_and_erased():
    import io

    from minibigram.progress import Progress

    assert not Progress(3, stream=io.StringIO()).enabled   # not a terminal: silent
    out = io.StringIO()
    p = Progress(2000, stream=out, enabled=True, interval=0)
    p.update(1000, loss=2.5)
    p.update(2000, loss=2.25)
    p.close()
    frames = out.getvalue().split("\r")
    assert frames[0] == "" and frames[1].startswith("step 1,000/2,000  loss 2.5000  ")
    assert frames[2].startswith("step 2,000/2,000  loss 2.2500  ")
    assert all(f.endswith(" step/s\x1b[K") for f in frames[1:3]) and frames[3] == "\x1b[K"
