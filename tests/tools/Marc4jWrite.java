// Writes ISO 2709 records as MARCXML and MARC-in-JSON with marc4j, for tests/python/test_foreign_output.py.
//
//   java -cp /usr/share/java/marc4j.jar tests/tools/Marc4jWrite.java IN.mrc OUT.xml OUT.json marc8|utf8 [...]
//
// Each group of four arguments is one file (one JVM start for all of them: it is most of the time).
// marc8: the records are MARC-8 and are converted to Unicode on the way (AnselToUnicode, then NFC:
// setUnicodeNormalization, what marc4j's own command line does with -normalize); utf8: the records
// are written as they are read.
// (Java 11+ runs a single source file directly, so nothing needs to be compiled beforehand.)

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;

import org.marc4j.MarcJsonWriter;
import org.marc4j.MarcStreamReader;
import org.marc4j.MarcXmlWriter;
import org.marc4j.converter.impl.AnselToUnicode;
import org.marc4j.marc.Record;

public class Marc4jWrite {
    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args.length % 4 != 0) {
            usage();
        }
        for (int i = 0; i < args.length; i += 4) {
            if (!(args[i + 3].equals("marc8") || args[i + 3].equals("utf8"))) {
                usage();
            }
            write(args[i], args[i + 1], args[i + 2], args[i + 3].equals("marc8"));
        }
    }

    private static void usage() {
        System.err.println("usage: Marc4jWrite IN.mrc OUT.xml OUT.json marc8|utf8 [...]");
        System.exit(2);
    }

    private static void write(String inPath, String xmlPath, String jsonPath, boolean marc8) throws Exception {
        try (InputStream in = new FileInputStream(inPath);
             OutputStream xmlOut = new FileOutputStream(xmlPath);
             OutputStream jsonOut = new FileOutputStream(jsonPath)) {
            // "UTF-8" for UTF-8 files; "BESTGUESS" would guess per record, which the test does not want.
            MarcStreamReader reader = new MarcStreamReader(in, marc8 ? "ISO8859_1" : "UTF-8");
            MarcXmlWriter xml = new MarcXmlWriter(xmlOut, "UTF-8", true);
            MarcJsonWriter json = new MarcJsonWriter(jsonOut, MarcJsonWriter.MARC_IN_JSON);
            if (marc8) {
                xml.setConverter(new AnselToUnicode());
                xml.setUnicodeNormalization(true);
                json.setConverter(new AnselToUnicode());
                json.setUnicodeNormalization(true);
            }
            int n = 0;
            while (reader.hasNext()) {
                Record record = reader.next();
                xml.write(record);
                json.write(record);
                n++;
            }
            xml.close();
            json.close();
            System.err.println(inPath + ": " + n + " records");
        }
    }
}
