package extract

func (e *extractor) rtf(data []byte, src source) {
	e.unscannable(src.loc, Unsupported, "text/rtf: not read yet", "text/rtf")
}
