package testutil

import (
	"archive/zip"
	"bytes"
	"io"
)

// AddMembers returns the ZIP archive z (a plain archive or an Office
// document built by DOCX, XLSX, PPTX, ODT or ODS) with files added after
// its members; a file named like an existing member replaces it in place.
func AddMembers(z []byte, files ...File) []byte {
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		panic(err)
	}
	add := map[string]File{}
	for _, f := range files {
		add[f.Name] = f
	}
	var out []File
	for _, m := range zr.File {
		if f, ok := add[m.Name]; ok {
			out = append(out, f)
			delete(add, m.Name)
			continue
		}
		rc, err := m.Open()
		if err != nil {
			panic(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			panic(err)
		}
		out = append(out, File{Name: m.Name, Data: data, Store: m.Method == zip.Store})
	}
	for _, f := range files {
		if _, ok := add[f.Name]; ok {
			out = append(out, f)
		}
	}
	return Zip(out...)
}

// DOCXBody builds a Word document whose body is the given WordprocessingML
// as written (not escaped), for documents no editor would write.
func DOCXBody(bodyXML string) []byte {
	return Zip(
		File{Name: "[Content_Types].xml", Data: []byte(contentTypesXML)},
		File{Name: "word/document.xml", Data: []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + bodyXML + `</w:body></w:document>`)},
	)
}
