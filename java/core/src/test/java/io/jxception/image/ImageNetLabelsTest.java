package io.jxception.image;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.*;

class ImageNetLabelsTest {
    @Test
    void shippedIndexHasKerasClasses() throws IOException {
        ImageNetLabels labels = ImageNetLabels.load();
        assertEquals(ImageNetLabels.CLASSES, labels.size());
        assertEquals(new ImageNetLabels.ImageNetClass("n01440764", "tench"), labels.get(0));
        assertEquals(new ImageNetLabels.ImageNetClass("n02123045", "tabby"), labels.get(281));
        assertEquals(new ImageNetLabels.ImageNetClass("n15075141", "toilet_tissue"), labels.get(999));
        assertThrows(IndexOutOfBoundsException.class, () -> labels.get(1000));
    }

    @Test
    void parseOrdersByIndexNotByPosition() throws IOException {
        ImageNetLabels l = ImageNetLabels.parse("{\"1\": [\"n2\", \"b\"], \"0\": [\"n1\", \"jack-o'-lantern\"]}", "t");
        assertEquals("jack-o'-lantern", l.get(0).label());
        assertEquals("n2", l.get(1).wnid());
        // JSON escapes are read as JSON reads them (the old regex reader refused any backslash)
        assertEquals("say \"hi\" é", ImageNetLabels.parse("{\"0\": [\"n1\", \"say \\\"hi\\\" \\u00e9\"]}", "t").get(0).label());
    }

    @Test
    void parseRejectsGapsDuplicatesAndJunk() {
        assertThrows(IOException.class, () -> ImageNetLabels.parse("{\"0\": [\"n1\", \"a\"], \"2\": [\"n2\", \"b\"]}", "t"));
        assertThrows(IOException.class, () -> ImageNetLabels.parse("{\"0\": [\"n1\", \"a\"], \"0\": [\"n2\", \"b\"]}", "t"));
        assertThrows(IOException.class, () -> ImageNetLabels.parse("{\"0\": [\"n1\", \"a\"], \"1\": 7}", "t"));
        assertThrows(IOException.class, () -> ImageNetLabels.parse("{}", "t"));
        assertThrows(IOException.class, () -> ImageNetLabels.parse("{\"0\": [\"n1\", \"a\"]} trailing", "t"));
        assertThrows(IOException.class, () -> ImageNetLabels.parse("{\"00\": [\"n1\", \"a\"]}", "t"));
    }
}
