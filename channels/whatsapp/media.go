package whatsapp

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/charlabot/charla/engine"
)

// MediaInfo is what the Cloud API says of a media id.
type MediaInfo struct {
	URL      string `json:"url"` // valid for 5 minutes, and only with the access token
	MIME     string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	FileSize int64  `json:"file_size"`
	ID       string `json:"id"`
}

// Media downloads a shopper's image or document, named by its media id or
// by its Attachment URL ("whatsapp-media:ID"). Nothing is downloaded
// unless a flow's action asks for it. The caller closes the reader.
func (c *Connector) Media(ctx context.Context, id string) (io.ReadCloser, MediaInfo, error) {
	c.init()
	id = strings.TrimPrefix(id, "whatsapp-media:")
	if id == "" || strings.ContainsAny(id, "/?#") {
		return nil, MediaInfo{}, engine.Errorf(engine.EInvalid, "not a WhatsApp media id: %q", id)
	}
	var info MediaInfo
	if err := c.marks.Get(ctx, id, &info); err != nil {
		return nil, info, err
	}
	if info.URL == "" {
		return nil, info, errors.New("whatsapp: the media has no URL")
	}
	resp, err := c.marks.Fetch(ctx, info.URL)
	if err != nil {
		return nil, info, err
	}
	return resp.Body, info, nil
}
