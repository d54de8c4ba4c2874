package extract

func (e *extractor) pdf(data []byte, src source, depth int) {
	e.unscannable(src.loc, Unsupported, "application/pdf: not read yet", "application/pdf")
}
