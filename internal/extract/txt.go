package extract

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// readTXT decodes plain text: UTF-8 (with or without a byte order mark),
// UTF-16 with a byte order mark, and otherwise, when the bytes are not
// valid UTF-8, Windows-1252 (Latin-1 with the printable characters in
// 0x80-0x9F that Windows editors write), the usual encoding of old text
// files in the five languages' countries but Czech and Slovak ones, whose
// letters Windows-1252 shows wrongly but harmlessly.
func readTXT(data []byte, tb *textBuilder) error {
	text, err := decodeTXT(data)
	if err != nil {
		return err
	}
	return tb.write(text)
}

func decodeTXT(data []byte) (string, error) {
	var dec *encoding.Decoder
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		data = data[3:]
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		dec = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		dec = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
	case !utf8.Valid(data):
		dec = charmap.Windows1252.NewDecoder()
	}
	if dec == nil {
		return string(data), nil
	}
	out, err := dec.Bytes(data)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return string(out), nil
}
